import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")

# WhiteNoise serves static files as synchronous iterators; under ASGI Django buffers
# them in a thread and warns each time. They are small admin assets, so that is fine.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

application = get_asgi_application()
