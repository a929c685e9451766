// The server's messages on /v1/ws (docs/api.md), decoded for display.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/sql_reply.h"
#include "common/status.h"

namespace kalam::cli {

struct LiveMessage {
  std::string type;            // "auth_success", "subscription_ack", "initial_data_batch",
                               // "change", "error", "auth_error", ...
  std::string change_type;     // change: "insert", "update" or "delete"
  std::vector<Column> schema;  // subscription_ack
  std::string live_id;         // subscription_ack
  int64_t total_rows = 0;      // subscription_ack
  bool ready = false;          // batch_control.status is "ready": the snapshot is complete
  // Laid out in the order of the columns given. A change has `rows` (insert, update: the
  // rows as they are now) and `old_values` (update, delete: the rows as they were).
  std::vector<std::vector<Value>> rows;
  std::vector<std::vector<Value>> old_values;
  ServerError error;                     // error, auth_error
};

// Decodes one message. Rows arrive as objects; they are laid out in the order of
// `columns` (a name a row lacks reads as NULL). INVALID_INPUT when text is not a message.
Result<LiveMessage> ParseLiveMessage(std::string_view text, const std::vector<Column>& columns);

// The columns of a subscription's rows: the ack's schema, with `_seq` last when the schema
// does not name it (every row carries it).
std::vector<Column> LiveColumns(const std::vector<Column>& schema);

}  // namespace kalam::cli
