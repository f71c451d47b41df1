// Conversations rendered with every family's chat template: system prompts, multi-turn, a final reply or not.
// Tool-call conversations (with "tools" given to the template, "tool_calls" and role "tool") are rendered only
// for the families named in "families": the ones whose templates have a tool path, each in its own shape
// (Qwen3 takes content "" and arguments as objects or strings; DeepSeek V3 takes content null and strings).
const weather = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather in a city — in °C or °F",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name, e.g. \"Zürich\" or 東京" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        days: { type: "integer", minimum: 1, maximum: 10 },
        threshold: { type: "number", default: 0.5 },
      },
      required: ["city"],
    },
  },
};
const time = { type: "function", function: { name: "get_time", description: "Local time", parameters: { type: "object", properties: {}, required: [] } } };

export const conversations = [
  { name: "single", messages: [{ role: "user", content: "Hello!" }] },
  { name: "reply", messages: [{ role: "user", content: "What is 2 + 2?" }, { role: "assistant", content: "2 + 2 = 4." }] },
  { name: "system", messages: [{ role: "system", content: "You are terse." }, { role: "user", content: "Name a colour." }, { role: "assistant", content: "Blue." }] },
  { name: "multi", messages: [
    { role: "system", content: "Answer in French." }, { role: "user", content: "Hi" }, { role: "assistant", content: "Bonjour !" },
    { role: "user", content: "  How are you?  " }, { role: "assistant", content: " Très bien, merci. " }] },
  { name: "multi-open", messages: [
    { role: "user", content: "First question" }, { role: "assistant", content: "First answer" }, { role: "user", content: "Second\nquestion with 😀" }] },
  { name: "unicode", messages: [{ role: "user", content: "cafe\u0301 日本語 𝐀" }, { role: "assistant", content: "Ça va 👍" }] },
  { name: "tool-call", families: ["qwen3"], tools: [weather, time], messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What's the weather in Paris?" },
    { role: "assistant", content: "", tool_calls: [{ type: "function", function: { name: "get_weather", arguments: { city: "Paris", unit: "celsius", days: 1 } } }] },
    { role: "tool", content: "{\"temperature\": 18, \"sky\": \"clear\"}" },
    { role: "assistant", content: "It is 18 °C and clear in Paris." }] },
  { name: "tool-parallel", families: ["qwen3"], tools: [weather], messages: [
    { role: "user", content: "Weather in Zürich and 東京?" },
    { role: "assistant", content: "<think>\nTwo cities, two calls.\n</think>\n\nLet me check both.", tool_calls: [
      { type: "function", function: { name: "get_weather", arguments: { city: "Zürich", threshold: 0.25 } } },
      { function: { name: "get_weather", arguments: "{\"city\": \"東京\"}" } }] },
    { role: "tool", content: "{\"temperature\": 9}" },
    { role: "tool", content: "{\"temperature\": 21}" }] },
  { name: "tool-multi-step", families: ["qwen3"], messages: [
    { role: "user", content: "What is 6 × 7?" },
    { role: "assistant", content: "Computing.", reasoning_content: "Use the calculator.", tool_calls: [{ type: "function", function: { name: "calc", arguments: { expression: "6*7" } } }] },
    { role: "tool", content: "42" },
    { role: "user", content: "<tool_response>\nchecked: 42\n</tool_response>" },
    { role: "assistant", content: "6 × 7 = 42." }] },
  { name: "ds-tool-call", families: ["deepseek_v3"], tools: [weather], messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "What's the weather in Paris?" },
    { role: "assistant", content: null, tool_calls: [{ type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Paris\"}" } }] },
    { role: "tool", content: "{\"temperature\": 18}" },
    { role: "assistant", content: "It is 18 °C in Paris." }] },
  { name: "ds-tool-parallel", families: ["deepseek_v3"], messages: [
    { role: "user", content: "Weather in Zürich and 東京?" },
    { role: "assistant", content: null, tool_calls: [
      { type: "function", function: { name: "get_weather", arguments: "{\"city\": \"Zürich\"}" } },
      { type: "function", function: { name: "get_weather", arguments: "{\"city\": \"東京\"}" } }] },
    { role: "tool", content: "{\"temperature\": 9}" },
    { role: "tool", content: "{\"temperature\": 21}" }] },
];
