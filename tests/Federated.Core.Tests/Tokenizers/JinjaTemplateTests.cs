using Federated.Core.Tokenizers.Jinja;

namespace Federated.Core.Tests.Tokenizers;

public sealed class JinjaTemplateTests
{
    private static string Render(string template, params (string Name, object? Value)[] variables)
        => JinjaTemplate.Parse(template).Render(variables.ToDictionary(v => v.Name, v => v.Value));

    [Fact]
    public void Blocks_trim_their_newline_and_leading_indent_and_dashes_strip_whitespace()
    {
        Assert.Equal("    a\nb\n", Render("{% if true %}\n    a\n  {% endif %}\n{{ 'b' }}\n"));
        Assert.Equal("xy", Render("x   {%- if true -%}   \n\n y {%- endif %}"));
        Assert.Equal("  1\n", Render("{% for i in [1] %}\n  {{ i }}\n{% endfor %}"));
        Assert.Equal("ab", Render("a{# a comment #}b"));
    }

    [Fact]
    public void Loops_expose_loop_variables_else_break_and_filters()
    {
        Assert.Equal("0:a:F 1:b: 2:c:L ", Render("{% for x in items %}{{ loop.index0 }}:{{ x }}:{% if loop.first %}F{% elif loop.last %}L{% endif %} {% endfor %}", ("items", new[] { "a", "b", "c" })));
        Assert.Equal("empty", Render("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}"));
        Assert.Equal("12", Render("{% for x in [1, 2, 3, 4] %}{% if x == 3 %}{% break %}{% endif %}{{ x }}{% endfor %}"));
        Assert.Equal("24", Render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}{% endfor %}"));
        Assert.Equal("3-3|2,1", Render("{% for x in [1, 2, 3] %}{% if loop.first %}{{ loop.revindex }}-{% endif %}{% if loop.last %}{{ loop.length }}{% endif %}{% endfor %}|{% for x in [1, 2] %}{{ loop.revindex0 + 1 }}{% if not loop.last %},{% endif %}{% endfor %}"));
    }

    [Fact]
    public void Set_in_a_loop_stays_in_the_loop_but_a_namespace_carries_out()
    {
        Assert.Equal("0|3", Render("{% set n = 0 %}{% set ns = namespace(n=0) %}{% for x in [1, 2, 3] %}{% set n = n + 1 %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ n }}|{{ ns.n }}"));
        Assert.Equal("<b>", Render("{% set tag %}<{{ 'b' }}>{% endset %}{{ tag }}"));
    }

    [Fact]
    public void Expressions_follow_python_and_jinja()
    {
        Assert.Equal("7 2 1 8 2.5 2 ab True False", Render("{{ 1 + 2 * 3 }} {{ 7 // 3 }} {{ 7 % 3 }} {{ 2 ** 3 }} {{ 5 / 2 }} {{ -1 + 3 }} {{ 'a' ~ 'b' }} {{ 'b' in 'abc' }} {{ 2 not in [1, 2] }}"));
        Assert.Equal("yes no []", Render("{{ 'yes' if x else 'no' }} {{ 'yes' if not x else 'no' }} [{{ 'a' if false }}]", ("x", true)));
        Assert.Equal("cba|bc|c|[2, 1]", Render("{{ s[::-1] }}|{{ s[1:] }}|{{ s[-1] }}|{{ l[::-1] }}", ("s", "abc"), ("l", new[] { 1, 2 })));
        Assert.Equal("x", Render("{{ d.k }}{{ d.missing }}{{ d['missing'] }}", ("d", new Dictionary<string, object?> { ["k"] = "x" })));
    }

    [Fact]
    public void String_methods_filters_and_tests()
    {
        Assert.Equal("b|a b|['a', 'b']|True|x-y|ABC", Render("{{ '\\n b \\n'.strip() }}|{{ 'xa bx'.strip('x') }}|{{ 'a</think>b'.split('</think>') }}|{{ 'abc'.startswith('ab') }}|{{ 'x_y'.replace('_', '-') }}|{{ 'abc'.upper() }}"));
        Assert.Equal("hi|3|a, b|a|c|fallback|{\"a\": [1, \"é\"], \"b\": null}", Render("{{ '  hi ' | trim }}|{{ [1, 2, 3] | length }}|{{ ['a', 'b'] | join(', ') }}|{{ 'abc' | first }}|{{ ['a', 'c'] | last }}|{{ missing | default('fallback') }}|{{ d | tojson }}",
            ("d", new Dictionary<string, object?> { ["a"] = new object?[] { 1, "é" }, ["b"] = null })));
        Assert.Equal("b", Render("{{ (items | selectattr('on') | map(attribute='name') | list) | join }}", ("items", new[] { new Dictionary<string, object?> { ["name"] = "a", ["on"] = false }, new Dictionary<string, object?> { ["name"] = "b", ["on"] = true } })));
        Assert.Equal("TTFTT", Render("{{ x is defined }}{{ y is undefined }}{{ x is none }}{{ 's' is string }}{{ z is none }}", ("x", 1), ("z", null)).Replace("True", "T").Replace("False", "F"));
    }

    [Fact]
    public void Macros_take_defaults_and_raise_exception_stops_the_render()
    {
        Assert.Equal("<a>[b]", Render("{% macro tag(name, open='<', close='>') %}{{ open }}{{ name }}{{ close }}{% endmacro %}{{ tag('a') }}{{ tag('b', '[', close=']') }}"));
        var error = Assert.Throws<JinjaException>(() => Render("{{ raise_exception('roles must alternate') }}"));
        Assert.Contains("roles must alternate", error.Message);
        Assert.Contains("is not defined", Assert.Throws<JinjaException>(() => Render("{{ 'a' + 1 }}")).Message);
    }

    [Fact]
    public void Unsupported_constructs_fail_at_parse_naming_them()
    {
        Assert.Contains("\"{% call %}\" is not supported", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{% call foo() %}{% endcall %}")).Message);
        Assert.Contains("\"| wordcount\" is not supported", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{{ x | wordcount }}")).Message);
        Assert.Contains("is not closed", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{{ x ")).Message);
        Assert.Contains("\"{% endif %}\" has no block to close", Assert.Throws<JinjaException>(() => JinjaTemplate.Parse("{% endif %}")).Message);
    }
}
