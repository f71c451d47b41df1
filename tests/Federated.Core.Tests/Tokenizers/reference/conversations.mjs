// Conversations rendered with every family's chat template: system prompts, multi-turn, a final reply or not.
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
];
