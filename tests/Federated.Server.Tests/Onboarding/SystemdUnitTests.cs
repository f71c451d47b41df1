using System.Diagnostics;

namespace Federated.Server.Tests.Onboarding;

/// <summary>
/// The systemd unit and installer of "Add an edge machine", checked by systemd's own tools (no running systemd is
/// needed): the unit parses without a warning, says what the README promises, and keeps its hardening; the installer
/// refuses, saying why, where it cannot install.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class SystemdUnitTests
{
    private static readonly string Folder = Path.Combine(TestModels.RepositoryRoot, "deploy", "systemd");
    private const string Installed = "/opt/federated-client/Federated.Client";

    [Fact]
    public void The_unit_runs_the_daemon_as_its_own_user_with_state_config_and_logs_where_the_readme_says()
    {
        var unit = Directives(File.ReadAllLines(Path.Combine(Folder, "federated-client.service")));
        Assert.Equal($"{Installed} --config /etc/federated/client.json", unit["ExecStart"]);
        Assert.Equal("federated-client", unit["User"]);
        Assert.Equal("on-failure", unit["Restart"]);
        Assert.Equal("78", unit["RestartPreventExitStatus"]); // the daemon's exit for a refusal it cannot mend
        Assert.Equal("federated-client", unit["StateDirectory"]);
        Assert.Equal("/var/lib/federated-client", unit["WorkingDirectory"]);
        Assert.Equal("federated", unit["ConfigurationDirectory"]);
        Assert.Equal("journal", unit["StandardOutput"]);
        Assert.Equal("journal", unit["StandardError"]);
        Assert.Equal("multi-user.target", unit["WantedBy"]);
    }

    [Fact]
    public async Task Systemd_reads_the_unit_without_a_warning_and_rates_its_exposure_at_most_four()
    {
        using var folder = new TemporaryDirectory();
        // verify checks that ExecStart's program exists: point it at a stand-in of the published executable.
        var program = folder["Federated.Client"];
        await File.WriteAllTextAsync(program, "#!/bin/sh\n");
        File.SetUnixFileMode(program, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var unit = folder["federated-client.service"];
        var text = await File.ReadAllTextAsync(Path.Combine(Folder, "federated-client.service"));
        Assert.Contains(Installed, text);
        await File.WriteAllTextAsync(unit, text.Replace(Installed, program, StringComparison.Ordinal));

        var (status, output) = await RunAsync("systemd-analyze", "verify", unit);
        var about = output.Split('\n').Where(line => line.Contains("federated-client", StringComparison.Ordinal)).ToList();
        Assert.True(status == 0 && about.Count == 0, $"systemd-analyze verify exited {status}:\n{output}");

        // systemd's exposure score, 0 (locked down) to 10 (unrestricted), as tenths; "OK" reaches 4.9.
        var (secure, report) = await RunAsync("systemd-analyze", "security", "--offline=yes", "--threshold=40", unit);
        Assert.True(secure == 0, $"systemd-analyze security rates the unit above 4.0:\n{report}");
    }

    [Fact]
    public async Task The_installer_refuses_outside_its_folder_or_without_root_saying_why()
    {
        using var folder = new TemporaryDirectory();
        var script = folder["install-systemd.sh"];
        File.Copy(Path.Combine(Folder, "install-systemd.sh"), script);
        var (status, output) = await RunAsync("sh", script);
        Assert.Equal(1, status);
        var expected = Environment.IsPrivilegedProcess
            ? $"the unit runs {Installed}; this folder is {folder.Path} (copy it there first)"
            : "run as root (sudo)";
        Assert.Contains("install-systemd.sh: " + expected, output);
    }

    /// <summary>The unit's "Key=value" lines (the last of a key wins, as for these single-valued keys in systemd).</summary>
    private static Dictionary<string, string> Directives(IEnumerable<string> lines)
    {
        var directives = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in lines.Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] is not ('#' or ';' or '[')))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            directives[line[..equals]] = line[(equals + 1)..];
        }
        return directives;
    }

    private static async Task<(int Status, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        // No PAGER or colour, and no attempt to reach a running systemd.
        start.Environment["SYSTEMD_PAGER"] = "";
        start.Environment["SYSTEMD_COLORS"] = "0";
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is needed by this test and is missing ({e.Message}); ./test.sh installs it (Debian package systemd)", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            return (process.ExitCode, await output + await error);
        }
    }
}
