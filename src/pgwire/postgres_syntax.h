// Postgres spellings the engine's parser reads differently, or not at all, rewritten in
// a statement from the Postgres door before it goes on like any other: the forms psql and
// drivers use in their catalog queries. One linear pass over the tokens; quoted text and
// comments are never touched, and SQL the engine already reads as Postgres does passes
// unchanged.
//
//   OPERATOR(pg_catalog.~)          ~
//   COLLATE pg_catalog.default      (dropped: the default collation is the only one)
//   x::pg_catalog.text              x::text (also after AS in CAST)
//   x::regclass, ::regtype, ::oid   x::BIGINT (object ids are numbers; names don't cast)
//   x::name, x::"char"              x::VARCHAR
//   a ~ 'p', a !~ 'p'               the pattern matches anywhere in a, not all of it
//   a LIKE 'p\_%'                   a LIKE 'p\_%' ESCAPE '\' (backslash escapes, as in Postgres)
#pragma once

#include <string>
#include <string_view>

namespace kalam::pgwire {

std::string RewritePostgresSyntax(std::string_view statement);

}  // namespace kalam::pgwire
