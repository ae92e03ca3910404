import os
import warnings

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "twinsite.settings")

# WhiteNoise serves static files as synchronous iterators; under ASGI Django buffers
# them in a thread and warns each time. They are small admin assets, so that is fine.
warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

django_application = get_asgi_application()

from django.conf import settings  # noqa: E402  (configured by get_asgi_application)

from apps.core.limits import RequestSizeLimit  # noqa: E402

# Oversized bodies are refused here, before Django reads them or anyone is authenticated.
application = RequestSizeLimit(django_application, max_bytes=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
