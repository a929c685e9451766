#include "cli/completion.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace kalam::cli {
namespace {

using Words = std::vector<std::string>;

CatalogNames Names() {
  CatalogNames names;
  names.namespaces = {"app", "default", "system"};
  names.tables = {{"app", "messages"}, {"app", "members"}, {"system", "users"}};
  names.columns = {{"app", "messages", "id"},
                   {"app", "messages", "body"},
                   {"app", "members", "id"},
                   {"app", "members", "name"},
                   {"system", "users", "username"}};
  return names;
}

bool Has(const Words& words, const std::string& w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

TEST(Completion, KeywordsFollowTheCaseTyped) {
  EXPECT_TRUE(Has(CompletionCandidates(Names(), "SEL"), "SELECT"));
  EXPECT_TRUE(Has(CompletionCandidates(Names(), "sel"), "select"));
  EXPECT_TRUE(Has(CompletionCandidates(Names(), "Sel"), "SELECT"));
  EXPECT_FALSE(Has(CompletionCandidates(Names(), "sel"), "SELECT"));
}

TEST(Completion, NamespacesTablesAndColumnsByPrefix) {
  EXPECT_EQ(CompletionCandidates(Names(), "me"), (Words{"members", "messages"}));
  EXPECT_TRUE(Has(CompletionCandidates(Names(), "ap"), "app"));
  EXPECT_TRUE(Has(CompletionCandidates(Names(), "userna"), "username"));
  EXPECT_EQ(CompletionCandidates(Names(), "bod"), Words{"body"});
}

TEST(Completion, QualifiedNames) {
  EXPECT_EQ(CompletionCandidates(Names(), "app."), (Words{"app.members", "app.messages"}));
  EXPECT_EQ(CompletionCandidates(Names(), "app.mes"), Words{"app.messages"});
  EXPECT_EQ(CompletionCandidates(Names(), "messages."), (Words{"messages.body", "messages.id"}));
  EXPECT_EQ(CompletionCandidates(Names(), "app.members.n"), Words{"app.members.name"});
  EXPECT_EQ(CompletionCandidates(Names(), "nope."), Words{});
}

TEST(Completion, MetaCommands) {
  EXPECT_EQ(CompletionCandidates(Names(), "\\d"), (Words{"\\d", "\\dn", "\\dt"}));
  EXPECT_EQ(CompletionCandidates(Names(), "\\lo"), Words{"\\login"});
}

TEST(Completion, NoDuplicates) {
  const Words ids = CompletionCandidates(Names(), "id");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), "id"), 1);
}

}  // namespace
}  // namespace kalam::cli
