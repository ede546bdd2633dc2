"""The config file: commented defaults on first run, errors that name key and line, defaults kept."""
from pathlib import Path

from bestbox import config


def test_first_run_writes_commented_defaults_with_a_generated_key(tmp_path: Path):
    path = tmp_path / "cfg" / "config.toml"
    loaded = config.load(path)
    assert loaded.created and loaded.ok
    text = path.read_text()
    assert text.startswith("# BestBox configuration")
    assert "[servers.heavy]" in text and "port = 8080" in text
    key = loaded.config.llama.api_key
    assert len(key) >= 20
    # The key is stable across loads: the servers and the app agree on it.
    assert config.load(path).config.llama.api_key == key


def test_defaults_mirror_the_design():
    c = config.Config()
    h, l = c.servers.heavy, c.servers.light
    assert (h.port, h.ctx_size, h.n_gpu_layers, h.parallel) == (8080, 8192, 999, 1)
    assert (l.port, l.ctx_size, l.n_gpu_layers, l.parallel) == (8081, 4096, 99, 2)
    assert h.model.endswith("qwen2.5-14b-instruct-q4_k_m.gguf")
    assert l.model.endswith("qwen2.5-7b-instruct-q5_k_m.gguf")
    assert c.routing.mode == "hybrid"


def test_bad_value_names_key_and_line_and_keeps_the_rest(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[llama]\napi_key = "k"\n\n[servers.light]\nport = "eighty"\nctx_size = 2048\n')
    loaded = config.load(path)
    assert not loaded.ok
    (issue,) = loaded.issues
    assert issue.key == "servers.light.port" and issue.line == 5
    assert "line 5" in str(issue)
    assert loaded.config.servers.light.port == 8081        # default for the bad key
    assert loaded.config.servers.light.ctx_size == 2048    # the valid neighbour is kept


def test_unknown_key_and_syntax_error_are_reported(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[routing]\nmode = "llm"\nmodee = "fast"\n')
    loaded = config.load(path)
    assert [(i.key, i.line) for i in loaded.issues] == [("routing.modee", 3)]
    assert loaded.config.routing.mode == "llm"

    path.write_text('[routing\nmode = "llm"\n')
    loaded = config.load(path)
    assert loaded.issues[0].line == 1 and "TOML" in loaded.issues[0].message
    assert loaded.config.routing == config.Config().routing


def test_both_servers_on_one_port_is_refused(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text('[llama]\napi_key = "k"\n[servers.heavy]\nport = 9000\n[servers.light]\nport = 9000\n')
    loaded = config.load(path)
    assert any("both use port 9000" in i.message for i in loaded.issues)
    c = loaded.config
    assert c.servers.heavy.port != c.servers.light.port


def test_set_value_keeps_comments(tmp_path: Path):
    path = tmp_path / "config.toml"
    config.load(path)
    config.set_value(path, ("routing", "mode"), "fast")
    text = path.read_text()
    assert "# BestBox configuration" in text and 'mode = "fast"' in text
    assert config.load(path).config.routing.mode == "fast"


def _fields(model) -> list:
    from pydantic import BaseModel

    out = []
    for name, f in type(model).model_fields.items():
        child = getattr(model, name)
        out += _fields(child) if isinstance(child, BaseModel) else [(type(model).__name__, name, f)]
    return out


def test_every_setting_is_described_once_in_the_schema():
    # The file's comments come from these descriptions: a setting without one would be a bare key.
    missing = [f"{cls}.{name}" for cls, name, f in _fields(config.Config()) if not (f.description or "").strip()]
    assert not missing, missing


def test_generated_file_is_commented_toml_that_loads_back_to_the_defaults():
    import tomllib

    text = config.default_toml("k" * 32)
    raw = tomllib.loads(text)
    assert config.Config.model_validate(raw).model_dump() == {
        **config.Config().model_dump(), "llama": {**config.Config().llama.model_dump(), "api_key": "k" * 32}}
    cfg, issues = config.parse(text)
    assert not issues
    # Readable: every table and every key of the first server has a comment line above it.
    lines = text.splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith("["):
            assert lines[i - 1].startswith("#"), ln
    heavy = lines[lines.index("[servers.heavy]") + 1:lines.index("[servers.light]")]
    keys = [ln for ln in heavy if ln and not ln.startswith("#")]
    assert keys and all(heavy[heavy.index(k) - 1].startswith("#") for k in keys)
    # The Docker example stays a comment, with its placeholders, and is not parsed as a key.
    assert any(ln.startswith('# command = ["docker", "run"') for ln in lines)
    assert raw["servers"]["heavy"]["command"] == []


def test_generated_file_holds_the_api_key_exactly_once(tmp_path: Path, monkeypatch):
    # A fresh data dir: a key remembered by an earlier test ("k") would be a substring of anything.
    monkeypatch.setenv("BESTBOX_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "config.toml"
    loaded = config.load(path)
    key = loaded.config.llama.api_key
    text = path.read_text()
    assert text.count(key) == 1
    assert f'api_key = "{key}"' in text
    # The documentation lines keep their placeholder rather than the real key.
    assert text.count("{api_key}") >= 2


def test_a_new_section_needs_only_a_described_model():
    from pydantic import BaseModel, ConfigDict, Field

    from bestbox.config_toml import render

    class Extra(BaseModel):
        """A section added later."""

        model_config = ConfigDict(extra="forbid")
        level: int = Field(3, description="How much.")

    class Bigger(config.Config):
        extra: Extra = Field(default_factory=Extra)

    text = render(Bigger())
    assert "# A section added later.\n[extra]\n# How much.\nlevel = 3\n" in text
