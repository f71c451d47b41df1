"""Writes python-renders.json: each templated family's chat template rendered on conversations.json as Python's
transformers apply_chat_template(messages, tools=..., tokenize=False, add_generation_prompt=...) renders it.

transformers itself is not installable here (no PyPI), so this builds the same Jinja environment its
render_jinja_template builds (transformers 4.5x, utils/chat_template_utils.py): an ImmutableSandboxedEnvironment
with trim_blocks, lstrip_blocks and loop controls, its tojson (json.dumps, non-ASCII kept), raise_exception and
strftime_now, and the variables messages, tools, documents, add_generation_prompt and the special tokens.
Run after generate.mjs (needs only jinja2): python3 python_renders.py
"""
import json
from datetime import datetime
from pathlib import Path

import jinja2
import jinja2.ext
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = Path(__file__).resolve().parent
tokenizers = here.parents[4] / "shared" / "tokenizers"
families = ["llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"]


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


def token(value):
    return value.get("content") if isinstance(value, dict) else value


conversations = json.loads((here / "conversations.json").read_text(encoding="utf-8"))
out = {}
for family in families:
    config = json.loads((tokenizers / family / "tokenizer_config.json").read_text(encoding="utf-8"))
    template = environment().from_string(config["chat_template"])
    specials = {k: token(config[k]) for k in ("bos_token", "eos_token", "unk_token", "pad_token") if config.get(k)}
    renders = []
    for c in conversations:
        if "families" in c and family not in c["families"]:
            continue
        for generation in (False, True):
            text = template.render(messages=c["messages"], tools=c.get("tools"), documents=None, add_generation_prompt=generation, **specials)
            renders.append({"name": c["name"], "generation": generation, "text": text})
    out[family] = renders
    print(family, len(renders), "renders")
(here / "python-renders.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
