// BEGIN [TRANSACTION | WORK] [modes], START TRANSACTION [modes], COMMIT / END [TRANSACTION |
// WORK], ROLLBACK / ABORT [TRANSACTION | WORK]. Transactions run under snapshot isolation:
// every isolation level a client may ask for but SERIALIZABLE gets it (it is at least as
// strong as READ COMMITTED and REPEATABLE READ); SERIALIZABLE is refused rather than
// silently weakened.
#include "sql/statement_parser.h"

namespace kalam::sql {

Result<KalamStatement> StatementParser::ParseBegin() {
  if (!Accept("TRANSACTION")) Accept("WORK");
  BeginTransaction begin;
  bool first = true;
  while (!AtEnd()) {
    if (!first && IsSymbol(Peek(), ',')) Take();
    first = false;
    if (Accept("ISOLATION")) {
      KALAM_RETURN_IF_ERROR(Expect("LEVEL", After("ISOLATION")));
      if (Accept("SERIALIZABLE")) {
        return Status(Code::kUnsupported,
                      "SERIALIZABLE is not supported: transactions run under snapshot isolation "
                      "(ask for REPEATABLE READ)");
      }
      if (Accept("REPEATABLE")) {
        KALAM_RETURN_IF_ERROR(Expect("READ", After("REPEATABLE")));
      } else if (Accept("READ")) {
        if (!Accept("COMMITTED") && !Accept("UNCOMMITTED")) {
          return Fail("COMMITTED or UNCOMMITTED", After("ISOLATION LEVEL READ"));
        }
      } else {
        return Fail("REPEATABLE READ, READ COMMITTED or SERIALIZABLE", After("ISOLATION LEVEL"));
      }
    } else if (Accept("READ")) {
      if (Accept("ONLY")) {
        begin.read_only = true;
      } else if (!Accept("WRITE")) {
        return Fail("ONLY or WRITE", After("READ"));
      }
    } else if (Accept("NOT")) {
      KALAM_RETURN_IF_ERROR(Expect("DEFERRABLE", After("NOT")));
    } else if (!Accept("DEFERRABLE")) {
      return Fail("ISOLATION LEVEL, READ ONLY, READ WRITE or the end", After(""));
    }
  }
  return KalamStatement(begin);
}

Result<KalamStatement> StatementParser::ParseCommit() {
  if (!Accept("TRANSACTION")) Accept("WORK");
  if (Accept("PREPARED")) return Status(Code::kUnsupported, "Prepared transactions are not supported");
  if (Accept("AND")) {
    if (!Accept("NO")) return Status(Code::kUnsupported, "COMMIT AND CHAIN is not supported");
    KALAM_RETURN_IF_ERROR(Expect("CHAIN", After("AND NO")));
  }
  return KalamStatement(CommitTransaction{});
}

Result<KalamStatement> StatementParser::ParseRollback() {
  if (!Accept("TRANSACTION")) Accept("WORK");
  if (Accept("TO")) return Status(Code::kUnsupported, "Savepoints are not supported");
  if (Accept("PREPARED")) return Status(Code::kUnsupported, "Prepared transactions are not supported");
  if (Accept("AND")) {
    if (!Accept("NO")) return Status(Code::kUnsupported, "ROLLBACK AND CHAIN is not supported");
    KALAM_RETURN_IF_ERROR(Expect("CHAIN", After("AND NO")));
  }
  return KalamStatement(RollbackTransaction{});
}

}  // namespace kalam::sql
