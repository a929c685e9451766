// The Postgres spellings rewritten before the engine reads a statement from the Postgres
// door, as a table: what psql sends, and what the engine gets.
#include "pgwire/postgres_syntax.h"

#include <gtest/gtest.h>

namespace kalam::pgwire {
namespace {

TEST(PostgresSyntax, RewritesWhatTheEngineReadsOtherwise) {
  const std::pair<const char*, const char*> cases[] = {
      {"SELECT 1", "SELECT 1"},
      {"SELECT x::pg_catalog.text, NULL::pg_catalog.text", "SELECT x::text, NULL::text"},
      {"SELECT pr::pg_catalog.int2[]", "SELECT pr::int2[]"},
      {"SELECT c.oid::pg_catalog.regclass::pg_catalog.text", "SELECT c.oid::BIGINT::text"},
      {"SELECT '1'::regtype, 2::oid, n::name, c::\"char\"",
       "SELECT '1'::BIGINT, 2::BIGINT, n::VARCHAR, c::VARCHAR"},
      {"SELECT CAST(x AS pg_catalog.text), y AS name", "SELECT CAST(x AS text), y AS name"},
      {"WHERE n OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default",
       "WHERE n  ~  '(?s:.*)(?:^(t)$)(?s:.*)' "},
      {"WHERE a = b COLLATE \"default\"", "WHERE a = b "},
      {"WHERE n !~ '^pg_toast'", "WHERE n !~ '(?s:.*)(?:^pg_toast)(?s:.*)'"},
      {"WHERE n ~ 'it''s'", "WHERE n ~ '(?s:.*)(?:it''s)(?s:.*)'"},
      // LIKE's operators and case-insensitive matching are left alone.
      {"WHERE n ~~ 'a%' OR n ~* 'a' OR n !~~ 'b'", "WHERE n ~~ 'a%' OR n ~* 'a' OR n !~~ 'b'"},
      {"WHERE n NOT LIKE E'pg\\\\_%'", "WHERE n NOT LIKE E'pg\\\\_%' ESCAPE '\\'"},
      {"WHERE n LIKE 'a%' AND m LIKE 'x\\_' ESCAPE '!'", "WHERE n LIKE 'a%' AND m LIKE 'x\\_' ESCAPE '!'"},
      // Quoted text and comments are never touched.
      {"SELECT ':: pg_catalog.text ~ ''x''' -- OPERATOR(pg_catalog.~)\n",
       "SELECT ':: pg_catalog.text ~ ''x''' -- OPERATOR(pg_catalog.~)\n"},
      {"SELECT \"pg_catalog\".\"text\"", "SELECT \"pg_catalog\".\"text\""},
  };
  for (const auto& [in, out] : cases) EXPECT_EQ(RewritePostgresSyntax(in), out) << in;
}

}  // namespace
}  // namespace kalam::pgwire
