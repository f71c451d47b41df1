// Writes the expected ids, decodes and chat renders that the tests compare against, from transformers.js.
// Regenerate (needs node and network access to npm once):
//   cd tests/Federated.Core.Tests/Tokenizers/reference && npm install --no-save @huggingface/transformers@4.3.2 && node generate.mjs
// It reads the tokenizer files in ../shared/tokenizers (found from the repository root) and writes *.json here.
// Python's renders (python_renders.py) are what the tests hold the engine to where the two differ.
import { AutoTokenizer, env } from "@huggingface/transformers";
import { writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { corpus } from "./corpus.mjs";
import { conversations } from "./conversations.mjs";

const here = dirname(fileURLToPath(import.meta.url));
env.allowRemoteModels = false;
env.localModelPath = resolve(here, "../../../../../shared/tokenizers") + "/";
const families = ["llama2", "llama3", "llama3_1", "qwen3", "gemma3", "deepseek_v3"];
const texts = corpus();
writeFileSync(join(here, "corpus.json"), JSON.stringify(texts, null, 0) + "\n");
writeFileSync(join(here, "conversations.json"), JSON.stringify(conversations, null, 1) + "\n");
for (const family of families) {
  const tokenizer = await AutoTokenizer.from_pretrained(family);
  const encode = texts.map(t => tokenizer.encode(t, { add_special_tokens: false }));
  const special = texts.map(t => tokenizer.encode(t, { add_special_tokens: true }));
  const decode = encode.map(ids => (ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true })));
  const chats = [];
  if (tokenizer.chat_template) {
    for (const c of conversations.filter(c => !c.families || c.families.includes(family))) {
      for (const generation of [false, true]) {
        const options = { tools: c.tools ?? null, add_generation_prompt: generation };
        const text = tokenizer.apply_chat_template(c.messages, { ...options, tokenize: false });
        const ids = tokenizer.apply_chat_template(c.messages, { ...options, tokenize: true, return_tensor: false, return_dict: false });
        chats.push({ name: c.name, generation, text, ids });
      }
    }
  }
  writeFileSync(join(here, `${family}.json`), JSON.stringify({ family, encode, special, decode, chats }) + "\n");
  console.log(family, texts.length, "strings,", chats.length, "chat renders");
}
