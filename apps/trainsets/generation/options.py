"""What a generation run is asked to do, checked once at the edge and stored on the run as JSON."""

from dataclasses import asdict, dataclass, fields

from apps.rag.providers import GenerationParams
from apps.trainsets.models import InstructionSample
from lib.errors import TwinsiteError

PROVIDERS = ("", "local", "tgi", "openai")  # "": settings.LLM_PROVIDER
INSTRUCTION_MAX_TOKENS = 64  # an own_text instruction is one line
RETRY_TEMPERATURE = 0.8  # greedy decoding would only repeat the rejected output


@dataclass(frozen=True)
class GenerationOptions:
    mode: str = InstructionSample.Mode.OWN_TEXT.value
    limit: int | None = None  # extracts to work on; None: all that need work
    pairs: bool = True  # also make preference pairs (and sweep chat feedback into pairs)
    provider: str = ""
    samples_per_extract: int = 3  # generated mode
    max_tokens: int = 512
    max_attempts: int = 3  # per extract: invalid outputs are retried this many times in all, then dropped

    def __post_init__(self) -> None:
        checks = {
            "mode": self.mode in InstructionSample.Mode.values,
            "limit": self.limit is None or (isinstance(self.limit, int) and self.limit >= 1),
            "provider": self.provider in PROVIDERS,
            "samples_per_extract": isinstance(self.samples_per_extract, int) and 1 <= self.samples_per_extract <= 10,
            "max_tokens": isinstance(self.max_tokens, int) and 8 <= self.max_tokens <= 8192,
            "max_attempts": isinstance(self.max_attempts, int) and 1 <= self.max_attempts <= 10,
        }
        expected = {
            "mode": f"one of {', '.join(InstructionSample.Mode.values)}",
            "limit": "a whole number of 1 or more",
            "provider": "local, tgi or openai (empty: LLM_PROVIDER)",
            "samples_per_extract": "between 1 and 10",
            "max_tokens": "between 8 and 8192",
            "max_attempts": "between 1 and 10",
        }
        for name, ok in checks.items():
            if not ok:
                raise TwinsiteError(f"{name} must be {expected[name]}, not {getattr(self, name)!r}.")

    @classmethod
    def from_dict(cls, data: dict) -> "GenerationOptions":
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})

    def as_dict(self) -> dict:
        return asdict(self)

    def params(self, attempt: int, *, max_tokens: int | None = None, stop: tuple[str, ...] = ()) -> GenerationParams:
        """Greedy on the first attempt (reproducible), sampled on retries (so a retry can differ)."""
        return GenerationParams(
            max_tokens=min(max_tokens or self.max_tokens, self.max_tokens),
            temperature=0.0 if attempt == 0 else RETRY_TEMPERATURE,
            stop=stop,
        )
