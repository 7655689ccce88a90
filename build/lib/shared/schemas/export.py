"""Write the JSON Schema of every message to ``shared/schemas/json/``: ``python -m shared.schemas.export``."""

import json
from pathlib import Path

from shared.schemas import MESSAGES

SCHEMA_DIR = Path(__file__).parent / "json"


def render_schemas() -> dict[str, str]:
    """File name -> JSON text, exactly as committed."""
    return {
        f"{name}.schema.json": json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False, sort_keys=True)
        + "\n"
        for name, model in MESSAGES.items()
    }


def main() -> None:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for file_name, text in render_schemas().items():
        (SCHEMA_DIR / file_name).write_text(text, encoding="utf-8")
        print(SCHEMA_DIR / file_name)


if __name__ == "__main__":
    main()
