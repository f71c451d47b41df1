using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Federated.Server.Dashboard;

/// <summary>
/// The dashboard's pages (Dashboard/wwwroot, embedded in the assembly) through ASP.NET Core's static-files
/// middleware: /dashboard redirects to /dashboard/, which is index.html. The pages are public, as the sign-in
/// page must be; what they show comes from /dashboard/api/, which needs a session. Each response must be
/// revalidated (no-cache) so a new server version is seen at once; the ETag makes that a 304 when unchanged.
/// </summary>
public static class DashboardStaticFiles
{
    private const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

    public static void Use(WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(DashboardStaticFiles).Assembly, "Dashboard/wwwroot");
        var path = new PathString(DashboardEndpoints.Prefix);
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files, RequestPath = path });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = path,
            ContentTypeProvider = ContentTypes(),
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
            },
        });
    }

    /// <summary>Only the kinds of file the pages are made of; anything else is not served.</summary>
    private static FileExtensionContentTypeProvider ContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        provider.Mappings.Clear();
        provider.Mappings[".html"] = "text/html; charset=utf-8";
        provider.Mappings[".js"] = "text/javascript; charset=utf-8";
        provider.Mappings[".css"] = "text/css; charset=utf-8";
        provider.Mappings[".svg"] = "image/svg+xml";
        return provider;
    }
}
