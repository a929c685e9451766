// \subscribe SELECT ...: a live view of a query. It subscribes over /v1/ws, prints the
// rows that match now, then every change with its type, until Ctrl-C (or SIGTERM), or
// until the server ends the subscription.
#pragma once

#include <string>

#include "cli/shell.h"

namespace kalam::cli {

// kOk when stopped by Ctrl-C or SIGTERM; kFailed when the server refused or ended the
// subscription; kUnreachable when the WebSocket can't be opened.
Outcome RunLiveView(Shell& shell, const std::string& sql);

}  // namespace kalam::cli
