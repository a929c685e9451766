#include "cli/live_view.h"

#include <signal.h>

#include <chrono>

#include "cli/live_message.h"
#include "client/ws_client.h"
#include "common/json_text.h"

namespace kalam::cli {

namespace {

constexpr auto kPoll = std::chrono::milliseconds(200);
constexpr auto kAuthTimeout = std::chrono::seconds(10);
constexpr const char* kSubscriptionId = "kalam-cli";

volatile sig_atomic_t g_stop = 0;
void OnStop(int) { g_stop = 1; }

// Ctrl-C and SIGTERM end the view instead of the process while it runs.
class StopSignals {
 public:
  StopSignals() {
    g_stop = 0;
    struct sigaction on_stop {};
    on_stop.sa_handler = OnStop;
    ::sigaction(SIGINT, &on_stop, &saved_int_);
    ::sigaction(SIGTERM, &on_stop, &saved_term_);
  }
  ~StopSignals() {
    ::sigaction(SIGINT, &saved_int_, nullptr);
    ::sigaction(SIGTERM, &saved_term_, nullptr);
  }
  bool stopped() const { return g_stop != 0; }

 private:
  struct sigaction saved_int_ {};
  struct sigaction saved_term_ {};
};

// Prints rows as the output format asks: table and CSV get a first column `change`
// ("snapshot", "insert", "update", "delete"); JSON prints the server's messages as they
// are, one a line.
class LiveOutput {
 public:
  explicit LiveOutput(Shell& shell) : shell_(shell) {}

  void Start(const std::vector<Column>& columns) {
    result_.has_rows = true;
    result_.columns = {{"change", "Text"}};
    result_.columns.insert(result_.columns.end(), columns.begin(), columns.end());
  }
  void Add(const std::string& change, const std::vector<std::vector<Value>>& rows) {
    for (const auto& row : rows) {
      std::vector<Value> values{{Value::Kind::kString, change}};
      values.insert(values.end(), row.begin(), row.end());
      result_.rows.push_back(std::move(values));
    }
  }
  // Prints the rows added since the last Flush.
  void Flush() {
    RenderOptions options = shell_.options().render;
    std::string text = Render(result_, options);
    // CSV: one header for the whole view.
    if (options.format == OutputFormat::kCsv && header_printed_) text.erase(0, text.find('\n') + 1);
    header_printed_ = true;
    shell_.Print(text);
    result_.rows.clear();
  }

 private:
  Shell& shell_;
  StatementResult result_;
  bool header_printed_ = false;
};

}  // namespace

Outcome RunLiveView(Shell& shell, const std::string& sql) {
  if (sql.empty()) {
    shell.PrintProblem("usage: \\subscribe SELECT ... FROM table [WHERE ...]");
    return Outcome::kFailed;
  }
  Session& session = shell.session();
  // Asking who we are first refreshes an expired stored token and reports bad credentials.
  auto who = session.WhoAmI();
  if (!who.ok()) {
    shell.PrintProblem(who.status().message());
    return Outcome::kUnreachable;
  }
  if (who->error) {
    shell.PrintError(who->error->code, who->error->message);
    return Outcome::kFailed;
  }

  const ServerAddress& address = session.address();
  client::WsClient ws;
  client::Headers headers;
  if (std::string authorization = session.Authorization(); !authorization.empty()) {
    headers.emplace_back("Authorization", std::move(authorization));
  }
  if (Status connected = ws.Connect(address.host, address.port, "/v1/ws", headers);
      !connected.ok()) {
    shell.PrintProblem("cannot reach the server at " + address.url + " (" + connected.message() +
                       ")");
    return Outcome::kUnreachable;
  }

  const bool json = shell.options().render.format == OutputFormat::kJson;
  StopSignals signals;
  LiveOutput output(shell);
  std::vector<Column> columns;
  bool subscribed = false;
  auto auth_deadline = std::chrono::steady_clock::now() + kAuthTimeout;
  while (!signals.stopped()) {
    const std::optional<std::string> text = ws.Receive(kPoll);
    if (!text) {
      if (ws.closed()) {
        shell.PrintProblem("the server closed the live query's connection");
        return Outcome::kFailed;
      }
      if (!subscribed && std::chrono::steady_clock::now() > auth_deadline) {
        shell.PrintProblem("the server did not answer the WebSocket authentication");
        return Outcome::kFailed;
      }
      continue;
    }
    auto message = ParseLiveMessage(*text, columns);
    if (!message.ok()) continue;  // not ours to show
    const std::string& type = message->type;
    if (type == "auth_success") {
      ws.Send("{\"type\":\"subscribe\",\"subscription\":{\"id\":\"" + std::string(kSubscriptionId) +
              "\",\"sql\":" + JsonString(sql) + ",\"options\":{}}}");
      subscribed = true;
    } else if (type == "auth_error" || type == "error") {
      shell.PrintError(message->error.code, message->error.message);
      return Outcome::kFailed;
    } else if (type == "subscription_ack") {
      columns = LiveColumns(message->schema);
      output.Start(columns);
      shell.PrintNote("Live query " + message->live_id + ": " +
                      std::to_string(message->total_rows) +
                      " rows match now; changes follow until Ctrl-C.");
      if (json) shell.Print(*text + "\n");
      if (message->ready && !json) output.Flush();
    } else if (type == "initial_data_batch") {
      if (json) {
        shell.Print(*text + "\n");
        continue;
      }
      output.Add("snapshot", message->rows);
      if (message->ready) output.Flush();
    } else if (type == "change") {
      if (json) {
        shell.Print(*text + "\n");
        continue;
      }
      // A delete carries the rows as they were in old_values, and no rows.
      output.Add(message->change_type,
                 message->change_type == "delete" ? message->old_values : message->rows);
      output.Flush();
    }
  }
  ws.Send("{\"type\":\"unsubscribe\",\"subscription_id\":\"" + std::string(kSubscriptionId) +
          "\"}");
  ws.Close();
  shell.PrintNote("Live query stopped.");
  return Outcome::kOk;
}

}  // namespace kalam::cli
