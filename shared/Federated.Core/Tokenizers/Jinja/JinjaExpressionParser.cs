using System.Globalization;
using System.Text;

namespace Federated.Core.Tokenizers.Jinja;

/// <summary>The expression half of the parser: precedence climbing over the tokens of one tag.</summary>
internal sealed partial class JinjaParser
{
    // Expressions, lowest precedence first: a if b else c; or; and; not; comparisons and in/is; ~; + -; * / // %; unary -; **; filters; postfix.
    private JinjaExpression ParseExpression()
    {
        var value = ParseTernaryless();
        if (!AcceptName("if"))
            return value;
        var condition = ParseOr();
        var otherwise = AcceptName("else") ? ParseExpression() : new LiteralExpression(JinjaValues.Undefined);
        return new TernaryExpression(condition, value, otherwise);
    }

    private JinjaExpression ParseTernaryless() => ParseOr();

    private JinjaExpression ParseOr()
    {
        var left = ParseAnd();
        while (AcceptName("or"))
            left = new LogicalExpression(left, ParseAnd(), And: false);
        return left;
    }

    private JinjaExpression ParseAnd()
    {
        var left = ParseNot();
        while (AcceptName("and"))
            left = new LogicalExpression(left, ParseNot(), And: true);
        return left;
    }

    private JinjaExpression ParseNot() => AcceptName("not") ? new NotExpression(ParseNot()) : ParseComparison();

    private JinjaExpression ParseComparison()
    {
        var left = ParseConcat();
        while (true)
        {
            if (Peek.Kind == JinjaTokenKind.Operator && Peek.Text is "==" or "!=" or "<" or ">" or "<=" or ">=")
            {
                var op = Next().Text;
                left = new BinaryExpression(op, left, ParseConcat());
            }
            else if (AcceptName("in"))
            {
                left = new BinaryExpression("in", left, ParseConcat());
            }
            else if (Peek.Kind == JinjaTokenKind.Name && Peek.Text == "not" && PeekAt(1) is { Kind: JinjaTokenKind.Name, Text: "in" })
            {
                _at += 2;
                left = new NotExpression(new BinaryExpression("in", left, ParseConcat()));
            }
            else if (AcceptName("is"))
            {
                bool negated = AcceptName("not");
                var test = ExpectName();
                if (!JinjaBuiltins.IsTest(test))
                    throw Error($"the test \"is {test}\" is not supported ({JinjaBuiltins.TestNames} are)");
                var args = new List<JinjaExpression>();
                if (Accept("("))
                    args = ParseArguments(out _);
                else if (Peek.Kind is JinjaTokenKind.String or JinjaTokenKind.Integer or JinjaTokenKind.Float || (Peek.Kind == JinjaTokenKind.Name && Peek.Text is not ("and" or "or" or "else" or "if" or "in" or "is" or "not")))
                    args.Add(ParseConcat());
                JinjaExpression testExpression = new TestExpression(left, test, args);
                left = negated ? new NotExpression(testExpression) : testExpression;
            }
            else
            {
                return left;
            }
        }
    }

    private JinjaExpression ParseConcat()
    {
        var left = ParseAdditive();
        while (Accept("~"))
            left = new BinaryExpression("~", left, ParseAdditive());
        return left;
    }

    private JinjaExpression ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Peek.Kind == JinjaTokenKind.Operator && Peek.Text is "+" or "-")
        {
            var op = Next().Text;
            left = new BinaryExpression(op, left, ParseMultiplicative());
        }
        return left;
    }

    private JinjaExpression ParseMultiplicative()
    {
        var left = ParseUnary();
        while (Peek.Kind == JinjaTokenKind.Operator && Peek.Text is "*" or "/" or "//" or "%")
        {
            var op = Next().Text;
            left = new BinaryExpression(op, left, ParseUnary());
        }
        return left;
    }

    private JinjaExpression ParseUnary()
    {
        if (Accept("-"))
            return new BinaryExpression("-", new LiteralExpression(0L), ParseUnary());
        if (Accept("+"))
            return ParseUnary();
        return ParsePower();
    }

    private JinjaExpression ParsePower()
    {
        var left = ParseFiltered();
        if (Accept("**"))
            return new BinaryExpression("**", left, ParseUnary());
        return left;
    }

    private JinjaExpression ParseFiltered()
    {
        var value = ParsePostfix();
        while (Accept("|"))
        {
            var name = ExpectName();
            if (!JinjaBuiltins.IsFilter(name))
                throw Error($"the filter \"| {name}\" is not supported ({JinjaBuiltins.FilterNames} are)");
            var args = new List<JinjaExpression>();
            var keywords = new Dictionary<string, JinjaExpression>();
            if (Accept("("))
                args = ParseArguments(out keywords);
            value = new FilterExpression(value, name, args, keywords);
        }
        return value;
    }

    private JinjaExpression ParsePostfix()
    {
        var value = ParsePrimary();
        while (true)
        {
            if (Accept("."))
            {
                value = new AttributeExpression(value, new LiteralExpression(ExpectName()));
            }
            else if (Accept("["))
            {
                JinjaExpression? Part() => Peek.Kind == JinjaTokenKind.Operator && Peek.Text is ":" or "]" ? null : ParseExpression();
                var start = Part();
                if (Accept(":"))
                {
                    var stop = Part();
                    var step = Accept(":") ? Part() : null;
                    value = new SliceExpression(value, start, stop, step);
                }
                else
                {
                    value = new AttributeExpression(value, start ?? throw Error("empty subscript []"));
                }
                Expect("]");
            }
            else if (Accept("("))
            {
                var args = ParseArguments(out var keywords);
                value = new CallExpression(value, args, keywords);
            }
            else
            {
                return value;
            }
        }
    }

    private JinjaExpression ParsePrimary()
    {
        var token = Next();
        switch (token.Kind)
        {
            case JinjaTokenKind.String:
                var text = new StringBuilder(token.Text);
                while (Peek.Kind == JinjaTokenKind.String)
                    text.Append(Next().Text); // adjacent literals join, as in Python
                return new LiteralExpression(text.ToString());
            case JinjaTokenKind.Integer:
                return new LiteralExpression(long.Parse(token.Text, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Float:
                return new LiteralExpression(double.Parse(token.Text, CultureInfo.InvariantCulture));
            case JinjaTokenKind.Name:
                return token.Text switch
                {
                    "true" or "True" => new LiteralExpression(true),
                    "false" or "False" => new LiteralExpression(false),
                    "none" or "None" => new LiteralExpression(null),
                    _ => new NameExpression(token.Text),
                };
            case JinjaTokenKind.Operator when token.Text == "(":
                var first = ParseExpression();
                if (Accept(")"))
                    return first;
                var tuple = new List<JinjaExpression> { first };
                while (Accept(",") && !(Peek.Kind == JinjaTokenKind.Operator && Peek.Text == ")"))
                    tuple.Add(ParseExpression());
                Expect(")");
                return new ListExpression(tuple);
            case JinjaTokenKind.Operator when token.Text == "[":
                var items = new List<JinjaExpression>();
                while (!Accept("]"))
                {
                    items.Add(ParseExpression());
                    if (!Accept(","))
                    {
                        Expect("]");
                        break;
                    }
                }
                return new ListExpression(items);
            case JinjaTokenKind.Operator when token.Text == "{":
                var pairs = new List<(JinjaExpression, JinjaExpression)>();
                while (!Accept("}"))
                {
                    var key = ParseExpression();
                    Expect(":");
                    pairs.Add((key, ParseExpression()));
                    if (!Accept(","))
                    {
                        Expect("}");
                        break;
                    }
                }
                return new DictExpression(pairs);
            default:
                throw Error(token.Kind == JinjaTokenKind.End ? "the expression ends too early" : $"unexpected \"{token.Text}\"");
        }
    }

    private List<JinjaExpression> ParseArguments(out Dictionary<string, JinjaExpression> keywords)
    {
        var args = new List<JinjaExpression>();
        keywords = [];
        while (!Accept(")"))
        {
            if (Peek.Kind == JinjaTokenKind.Name && PeekAt(1) is { Kind: JinjaTokenKind.Operator, Text: "=" })
            {
                var name = Next().Text;
                _at++;
                keywords[name] = ParseExpression();
            }
            else
            {
                args.Add(ParseExpression());
            }
            if (!Accept(","))
            {
                Expect(")");
                break;
            }
        }
        return args;
    }
}
