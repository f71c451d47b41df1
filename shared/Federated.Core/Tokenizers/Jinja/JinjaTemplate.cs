using System.Text;

namespace Federated.Core.Tokenizers.Jinja;

/// <summary>A template that uses something this engine does not run, or fails while rendering (raise_exception, a type error).</summary>
public sealed class JinjaException(string message) : Exception(message);

/// <summary>
/// The subset of Jinja that Hugging Face chat templates use, run as transformers.js runs them (trim_blocks and
/// lstrip_blocks on): output, if/elif/else, for (loop.*, else, break/continue), set (with namespace()), macro,
/// filters, tests, string and dict methods, slicing. Written here because no served .NET package runs Jinja:
/// Fluid and Scriban implement Liquid and their own syntax, which differ from Jinja in exactly the constructs
/// chat templates rely on (namespace(), loop.index0, is defined, Python string methods). Anything outside the
/// subset fails when the template is parsed, naming the construct, rather than rendering differently.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly List<JinjaNode> _body;

    private JinjaTemplate(List<JinjaNode> body) => _body = body;

    public static JinjaTemplate Parse(string source) => new(new JinjaParser(Lex(source)).ParseTemplate());

    /// <summary>Renders with the given variables (strings, numbers, bools, null, lists, string-keyed dictionaries).</summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        var scope = new JinjaScope(JinjaBuiltins.Globals());
        foreach (var (name, value) in variables)
            scope.Set(name, JinjaValues.FromClr(value));
        var output = new StringBuilder();
        JinjaNode.ExecuteAll(_body, scope, output);
        return output.ToString();
    }

    /// <summary>Splits the source into text, {{ expression }} and {% statement %} segments, applying whitespace control.</summary>
    internal static List<JinjaSegment> Lex(string source)
    {
        var segments = new List<JinjaSegment>();
        int pos = 0;
        bool stripLeading = false, trimNewline = false;
        while (pos <= source.Length)
        {
            int open = FindOpen(source, pos);
            var text = source[pos..(open < 0 ? source.Length : open)];
            if (stripLeading)
                text = text.TrimStart();
            else if (trimNewline && text.StartsWith('\n'))
                text = text[1..];
            else if (trimNewline && text.StartsWith("\r\n", StringComparison.Ordinal))
                text = text[2..];
            if (open < 0)
            {
                if (text.Length > 0)
                    segments.Add(new JinjaSegment(JinjaSegmentKind.Text, text, 0));
                break;
            }
            char kind = source[open + 1];
            int innerStart = open + 2;
            bool minusBefore = innerStart < source.Length && source[innerStart] == '-';
            bool plusBefore = innerStart < source.Length && source[innerStart] == '+';
            if (minusBefore || plusBefore)
                innerStart++;
            if (minusBefore)
                text = text.TrimEnd();
            else if (kind != '{' && !plusBefore)
            {
                // lstrip_blocks: spaces and tabs from the start of the line to a block or comment tag go.
                int lineStart = open == 0 ? 0 : source.LastIndexOf('\n', open - 1) + 1;
                if (source.AsSpan(lineStart, open - lineStart).Trim(" \t").IsEmpty)
                    text = text.TrimEnd(' ', '\t');
            }
            if (text.Length > 0)
                segments.Add(new JinjaSegment(JinjaSegmentKind.Text, text, open));
            var close = kind switch { '{' => "}}", '%' => "%}", _ => "#}" };
            int closeAt = FindClose(source, innerStart, close, kind == '#');
            if (closeAt < 0)
                throw new JinjaException($"template: the tag opened at offset {open} is not closed with \"{close}\"");
            int innerEnd = closeAt;
            bool minusAfter = innerEnd > innerStart && source[innerEnd - 1] == '-';
            if (minusAfter || (innerEnd > innerStart && source[innerEnd - 1] == '+'))
                innerEnd--;
            var inner = source[innerStart..innerEnd];
            if (kind == '{')
                segments.Add(new JinjaSegment(JinjaSegmentKind.Output, inner, open));
            else if (kind == '%')
                segments.Add(new JinjaSegment(JinjaSegmentKind.Statement, inner, open));
            stripLeading = minusAfter;
            trimNewline = !minusAfter && kind != '{'; // trim_blocks
            pos = closeAt + 2;
        }
        return segments;
    }

    private static int FindOpen(string source, int from)
    {
        for (int i = source.IndexOf('{', from); i >= 0 && i + 1 < source.Length; i = source.IndexOf('{', i + 1))
        {
            if (source[i + 1] is '{' or '%' or '#')
                return i;
        }
        return -1;
    }

    private static int FindClose(string source, int from, string close, bool comment)
    {
        char quote = '\0';
        for (int i = from; i + 1 < source.Length; i++)
        {
            char c = source[i];
            if (!comment && quote != '\0')
            {
                if (c == '\\')
                    i++;
                else if (c == quote)
                    quote = '\0';
                continue;
            }
            if (!comment && c is '\'' or '"')
                quote = c;
            else if (c == close[0] && source[i + 1] == close[1])
                return i;
        }
        return -1;
    }
}

internal enum JinjaSegmentKind
{
    Text,
    Output,
    Statement,
}

internal sealed record JinjaSegment(JinjaSegmentKind Kind, string Text, int Offset);
