from pathlib import Path

from dotenv import dotenv_values

from agent.settings import Settings, load_settings

ENV_EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def test_env_example_lists_every_setting_and_nothing_else() -> None:
    documented = list(dotenv_values(ENV_EXAMPLE))

    assert sorted(documented) == sorted(Settings.env_names())
    assert len(documented) == len(set(documented))


def test_every_setting_in_env_example_has_a_comment_above_it() -> None:
    lines = ENV_EXAMPLE.read_text().splitlines()

    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("# "), f"no comment above {line!r}"


def test_env_example_shows_the_defaults(clean_env: Path) -> None:
    documented = load_settings(_env_file=ENV_EXAMPLE)

    assert documented == load_settings(_env_file=None)
