// The admin UI as the server serves it: the redirect, content types, caching and security
// headers, client-side routes, refused paths, and the first-visit set-up check.
#include <gtest/gtest.h>

#include <regex>

#include "server_process.h"

namespace kalam::testing {
namespace {

class UiTest : public ServerTest {
 protected:
  client::HttpResponse Get(const std::string& target, const client::Headers& headers = {}) {
    auto response = http_.Send("GET", target, "", headers);
    EXPECT_TRUE(response.ok()) << target;
    return response.ok() ? *response : client::HttpResponse{};
  }
  // The path of the app's script, from index.html.
  std::string ScriptPath() {
    std::smatch match;
    const std::string html = Get("/ui/").body;
    EXPECT_TRUE(std::regex_search(html, match, std::regex(R"re(src="(/ui/assets/app-[A-Z0-9]+\.js)")re")));
    return match.size() > 1 ? match[1].str() : "";
  }
};

TEST_F(UiTest, RootRedirectsToTheUi) {
  for (const char* path : {"/", "/ui"}) {
    auto response = Get(path);
    EXPECT_EQ(response.status, 302) << path;
    EXPECT_EQ(response.Header("Location"), "/ui/") << path;
  }
}

TEST_F(UiTest, IndexHasSecurityHeadersAndIsRevalidated) {
  auto response = Get("/ui/");
  ASSERT_EQ(response.status, 200);
  EXPECT_EQ(response.Header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(response.Header("Cache-Control"), "no-cache");
  EXPECT_EQ(response.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(response.Header("Referrer-Policy"), "no-referrer");
  const std::string csp = response.Header("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("connect-src 'self' ws://127.0.0.1"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_NE(response.body.find("<div id=\"app\">"), std::string::npos);
  // No inline script: every script is a file of the origin.
  EXPECT_EQ(response.body.find("<script>"), std::string::npos);

  const std::string etag = response.Header("ETag");
  ASSERT_FALSE(etag.empty());
  auto again = Get("/ui/", {{"If-None-Match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
}

TEST_F(UiTest, HashedAssetsAreImmutableAndGzippedOnRequest) {
  const std::string script = ScriptPath();
  ASSERT_FALSE(script.empty());
  auto plain = Get(script);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.Header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.Header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(plain.Header("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(plain.Header("Content-Encoding").empty());
  auto gzip = Get(script, {{"Accept-Encoding", "gzip, deflate"}});
  ASSERT_EQ(gzip.status, 200);
  EXPECT_EQ(gzip.Header("Content-Encoding"), "gzip");
  EXPECT_EQ(gzip.Header("Vary"), "Accept-Encoding");
  EXPECT_LT(gzip.body.size(), plain.body.size());
  EXPECT_NE(gzip.Header("ETag"), plain.Header("ETag"));
  // The stylesheet and the icon carry their types too.
  const std::string html = Get("/ui/").body;
  std::smatch css;
  ASSERT_TRUE(std::regex_search(html, css, std::regex(R"re(href="(/ui/assets/app-[A-Z0-9]+\.css)")re")));
  EXPECT_EQ(Get(css[1].str()).Header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(Get("/ui/favicon.svg").Header("Content-Type"), "image/svg+xml");
}

TEST_F(UiTest, PagePathsAnswerTheAppAndMissingFilesAre404) {
  for (const char* page : {"/ui/sql", "/ui/table/app/messages", "/ui/users?x=1"}) {
    auto response = Get(page);
    EXPECT_EQ(response.status, 200) << page;
    EXPECT_EQ(response.Header("Content-Type"), "text/html; charset=utf-8") << page;
    EXPECT_FALSE(response.Header("Content-Security-Policy").empty()) << page;
  }
  for (const char* missing : {"/ui/assets/nope.js", "/ui/robots.txt", "/ui/assets/"}) {
    auto response = Get(missing);
    EXPECT_EQ(response.status, 404) << missing;
    EXPECT_EQ(response.Header("Content-Type"), "application/json") << missing;
  }
  auto post = http_.Send("POST", "/ui/", "{}");
  ASSERT_TRUE(post.ok());
  EXPECT_EQ(post->status, 404);
}

TEST_F(UiTest, TraversalAndEncodedPathsAreRefused) {
  for (const char* path : {"/ui/../../etc/passwd", "/ui/assets/../../../etc/passwd",
                           "/ui/..%2f..%2fetc%2fpasswd", "/ui/%2e%2e/%2e%2e/etc/passwd",
                           "/ui/assets/%2e%2e%5c%2e%2e%5cetc%5cpasswd", "/ui/..\\..\\etc\\passwd",
                           "/ui//etc/passwd", "/ui/./index.html", "/ui/%00", "/ui/assets/.."}) {
    auto response = http_.SendRaw(std::string("GET ") + path +
                                  " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    ASSERT_TRUE(response.ok()) << path;
    EXPECT_EQ(response->status, 404) << path;
    EXPECT_EQ(response->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(response->body.find("<html"), std::string::npos) << path;
  }
}

TEST_F(UiTest, OtherRoutesKeepTheirAnswers) {
  EXPECT_EQ(Get("/health").status, 200);
  EXPECT_EQ(Get("/nope").status, 404);
  EXPECT_EQ(Get("/v1/api/auth/setup").body, R"({"needs_setup":false})");
}

TEST(UiSetup, AFreshRootWithoutPasswordNeedsSetupFromLoopback) {
  ServerOptions options;
  options.root_password = false;
  ServerProcess server(options);
  server.Start();
  auto http = server.Client();
  auto before = http.Send("GET", "/v1/api/auth/setup");
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->status, 200);
  EXPECT_EQ(before->body, R"({"needs_setup":true})");
  // What the set-up page does: sign in as root without a password (loopback only), set one.
  auto login = LogIn(http, "root", "");
  ASSERT_EQ(login.status, 200);
  const std::string token(login.body.at("access_token").as_string());
  auto set = Sql(http, "Bearer " + token, "ALTER USER 'root' SET PASSWORD 'a-new-secret'");
  ASSERT_EQ(set.status, 200) << boost::json::serialize(set.body);
  auto after = http.Send("GET", "/v1/api/auth/setup");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->body, R"({"needs_setup":false})");
  EXPECT_EQ(LogIn(http, "root", "a-new-secret").status, 200);
}

}  // namespace
}  // namespace kalam::testing
