// What the CLI asks of the terminal: is there one, how wide is it, and reading a password
// without echoing it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace kalam::cli {

bool IsTerminal(int fd);
// The width of the terminal on fd; 0 when fd is not a terminal.
size_t TerminalWidth(int fd);
// Writes prompt to stderr and reads a line from standard input with echo off (when it is a
// terminal). nullopt at end of input.
std::optional<std::string> ReadSecret(const std::string& prompt);

}  // namespace kalam::cli
