#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>

namespace kalam::cli {

bool IsTerminal(int fd) { return ::isatty(fd) == 1; }

size_t TerminalWidth(int fd) {
  winsize size{};
  if (!IsTerminal(fd) || ::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

std::optional<std::string> ReadSecret(const std::string& prompt) {
  // Echo goes off before the prompt shows, so that nothing typed after it is echoed; and
  // TCSANOW, so that what was typed ahead is kept.
  termios saved{};
  const bool tty = ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (tty) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ICANON;
    quiet.c_iflag |= ICRNL;
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::fputs(prompt.c_str(), stderr);
  std::fflush(stderr);
  // Byte by byte, so that nothing after the line is taken from the editor's input.
  std::string line;
  bool got_any = false;
  char c = 0;
  while (::read(STDIN_FILENO, &c, 1) == 1) {
    got_any = true;
    if (c == '\n' || c == '\r') break;
    line += c;
  }
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputs("\n", stderr);
  }
  if (!got_any) return std::nullopt;
  return line;
}

}  // namespace kalam::cli
