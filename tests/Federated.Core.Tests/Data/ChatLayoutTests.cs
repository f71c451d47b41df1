using Federated.Core.Data;
using Federated.Core.Tests.Tokenizers;
using Federated.Core.Tokenizers;

namespace Federated.Core.Tests.Data;

public sealed class ChatLayoutTests : IDisposable
{
    private static readonly TextExample Conversation = new("What is 2+2?", "4", "math")
    {
        Context = [new(ChatRoles.System, "Be brief."), new(ChatRoles.User, "Hi"), new(ChatRoles.Assistant, "Hello")],
    };

    private readonly TokenizerFiles _files = new();

    public void Dispose() => _files.Dispose();

    private const string ChatMl = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // Llama 2 chat's template as Hugging Face ships it: the system prompt inside the first [INST], BOS and EOS around each exchange.
    private const string Llama2Chat = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}";

    [Fact]
    public void The_plain_layout_has_headings_and_only_the_last_reply_is_a_target()
    {
        var example = TokenizedExample.From(Conversation, ByteTokenizer.Instance, ChatFormat.Plain, 1024);
        var tokenizer = ByteTokenizer.Instance;
        Assert.Equal(ByteTokenizer.Bos, example.Tokens[0]);
        Assert.Equal("Be brief.\n\n### Instruction:\nHi\n\n### Response:\nHello\n\n### Instruction:\nWhat is 2+2?\n\n### Response:\n", tokenizer.Decode(example.Tokens[..example.PromptLength]));
        Assert.Equal("4", tokenizer.Decode(example.Tokens[example.PromptLength..]));
        Assert.Equal(ByteTokenizer.Eos, example.Tokens[^1]);
    }

    [Fact]
    public void A_template_with_BOS_and_EOS_text_between_turns_gives_their_ids_and_trains_on_the_last_reply()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.SentencePiece(), new() { ["bos_token"] = "<s>", ["eos_token"] = "</s>", ["chat_template"] = Llama2Chat }));
        var example = TokenizedExample.From(new TextExample("he", "hello world") { Context = [new(ChatRoles.System, "Be brief."), new(ChatRoles.User, "hi"), new(ChatRoles.Assistant, "hello")] }, tokenizer, ChatFormat.Template, 1024, tokenizer.Template);
        Assert.Equal(2, example.Tokens.Count(t => t == 1));
        Assert.Equal(2, example.Tokens.Count(t => t == 2));
        Assert.Equal(1, example.Tokens[0]);
        Assert.Equal("[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nhi [/INST] hello  [INST] he [/INST]", tokenizer.Decode(example.Tokens[..example.PromptLength]));
        // " hello world </s>" after "[/INST]" is ▁hell o ▁wor l d ▁, then EOS.
        Assert.Equal([273, 263, 272, 262, 266, 259, 2], example.Tokens[example.PromptLength..]);
        var broken = new TextExample("he", "x") { Context = [new(ChatRoles.Assistant, "first")] };
        Assert.Contains("Conversation roles must alternate", Assert.Throws<ArgumentException>(() => TokenizedExample.From(broken, tokenizer, ChatFormat.Template, 1024, tokenizer.Template)).Message);
    }

    [Fact]
    public void Raw_layout_with_the_byte_tokenizer_is_the_built_in_format()
    {
        var example = new TextExample("add 1+2=", "3");
        var raw = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 64);
        Assert.Equal([ByteTokenizer.Bos, .. "add 1+2=3".Select(c => (int)c), ByteTokenizer.Eos], raw.Tokens);
        Assert.Equal(9, raw.PromptLength);
        var plain = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Plain, 64);
        Assert.Equal("### Instruction:\nadd 1+2=\n\n### Response:\n3", ByteTokenizer.Instance.Decode(plain.Tokens));
    }

    [Fact]
    public void Plain_text_is_trained_on_every_token()
    {
        var template = ModelChatTemplate.Parse(ChatMl, null, "<|im_end|>", null, "test");
        var example = TokenizedExample.From(TextExample.PlainText("abc"), ByteTokenizer.Instance, ChatFormat.Template, 64, template);
        Assert.Equal([ByteTokenizer.Bos, 'a', 'b', 'c', ByteTokenizer.Eos], example.Tokens);
        Assert.Equal(1, example.PromptLength);
    }

    [Fact]
    public void ChatML_markers_become_special_ids_and_the_target_is_reply_plus_end_marker()
    {
        var tokenizer = HuggingFaceTokenizer.Load(_files.Write(TokenizerFiles.ByteLevel(), new() { ["eos_token"] = "<|im_end|>", ["chat_template"] = ChatMl }));
        var example = TokenizedExample.From(new TextExample("hi", "hello world"), tokenizer, ChatFormat.Template, 64, tokenizer.Template);
        // The template's "\n" after the final <|im_end|> is left out: nothing is predicted from it.
        int[] expected = [301, .. "user\nhi".Select(c => (int)c), 302, '\n', 301, .. "assistant\n".Select(c => (int)c), 258, 'o', 261, 'l', 'd', 302];
        Assert.Equal(expected, example.Tokens);
        Assert.Equal(expected.Length - 6, example.PromptLength);
    }

    [Fact]
    public void A_prompt_longer_than_the_limit_is_refused_and_a_long_reply_is_cut()
    {
        var example = new TextExample("abcdef", "ghij");
        Assert.Contains("does not fit the 5-token sequence limit", Assert.Throws<ArgumentException>(() => TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 5)).Message);
        var cut = TokenizedExample.From(example, ByteTokenizer.Instance, ChatFormat.Raw, 9);
        Assert.Equal(9, cut.Tokens.Length);
        Assert.Equal(7, cut.PromptLength);
    }
}
