// Routing in the live hub: which subscriber gets which committed change, in which order,
// and what an update becomes for a subscription it enters or leaves. Subscriptions are
// parsed from SQL as the server does, and events are shaped as the committer emits them.
#include "live/hub.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <stdexcept>
#include <set>
#include <string>
#include <vector>

namespace kalam::live {
namespace {

using store::Cell;
using store::ChangeEvent;
using store::RowImage;

// Records what the hub hands a connection, in order.
class RecordingOutlet final : public Outlet {
 public:
  void Send(std::string message) override { messages.push_back(std::move(message)); }
  void SendMany(std::vector<std::string> batch) override {
    for (auto& m : batch) messages.push_back(std::move(m));
  }
  std::vector<std::string> messages;
};

catalog::ColumnDef Column(uint32_t id, const char* name, ColumnType type, bool pk = false) {
  catalog::ColumnDef c;
  c.id = id;
  c.name = name;
  c.type = type;
  c.primary_key = pk;
  c.nullable = !pk;
  return c;
}

catalog::TableDef Table(uint64_t num, const char* name, catalog::TableType type) {
  catalog::TableDef def;
  def.table_num = num;
  def.ns = "app";
  def.name = name;
  def.type = type;
  def.access_level = "public";
  catalog::TableSchema schema;
  schema.columns = {Column(1, "id", ColumnType::kBigInt, true),
                    Column(2, "room", ColumnType::kText), Column(3, "body", ColumnType::kText)};
  def.schemas.push_back(schema);
  return def;
}

// A change as the hub reports it: kind, then the rows' "id/room", then "old" and the
// old_values' (an update's rows before it; a delete carries old_values only). Enough to tell which rows went where; the row encoding has tests of its own.
std::string Summary(const std::string& message) {
  static const std::regex kind_re(R"re("change_type":"(\w+)")re");
  static const std::regex row_re(R"re("id":(-?\d+),"room":("[^"]*"|null))re");
  std::smatch kind;
  if (!std::regex_search(message, kind, kind_re)) {
    return message.find("\"type\":\"error\"") != std::string::npos ? "error" : "?" + message;
  }
  std::string out = kind[1];
  const size_t old_at = message.find("\"old_values\"");
  auto rows = [&](size_t from, size_t to) {
    std::string list;
    const std::string part = message.substr(from, to - from);
    for (auto it = std::sregex_iterator(part.begin(), part.end(), row_re);
         it != std::sregex_iterator(); ++it) {
      std::string room = (*it)[2];
      if (room.front() == '"') room = room.substr(1, room.size() - 2);
      list += " " + (*it)[1].str() + "/" + room;
    }
    return list;
  };
  out += rows(0, old_at == std::string::npos ? message.size() : old_at);
  if (old_at != std::string::npos) out += " old" + rows(old_at, message.size());
  return out;
}

RowImage Row(int64_t id, std::optional<std::string> room, int64_t seq) {
  RowImage row;
  row.cells = {Cell(id), room ? Cell(*room) : Cell(), Cell(std::string("body"))};
  row.seq = seq;
  return row;
}

ChangeEvent Event(const std::string& table_id, const std::string& scope, ChangeEvent::Kind kind,
                  std::vector<RowImage> rows, std::vector<RowImage> old_rows = {}) {
  ChangeEvent e;
  e.table_id = table_id;
  e.scope = scope;
  e.kind = kind;
  e.schema_version = 1;
  e.rows = std::move(rows);
  e.old_rows = std::move(old_rows);
  return e;
}

class LiveHubTest : public ::testing::Test {
 protected:
  LiveHubTest() {
    state_.namespaces["app"] = catalog::Namespace{"app", "{}", 0};
    for (auto def : {Table(1, "notes", catalog::TableType::kUser),
                     Table(2, "msgs", catalog::TableType::kShared)}) {
      state_.tables[def.id()] = def;
    }
    hub_.StartAt(100);
  }

  struct Sub {
    std::shared_ptr<Subscription> sub;
    std::shared_ptr<RecordingOutlet> outlet;
  };

  // Subscribes user on connection (one outlet per connection) and marks it ready.
  std::shared_ptr<Subscription> Subscribe(const std::string& connection, const std::string& user,
                                          const std::string& sql, bool ready = true) {
    auth::Caller caller{user, user, auth::Role::kUser};
    auto parsed = ParseSubscription(sql, state_, caller, "app");
    if (!parsed.ok()) throw std::runtime_error(sql + ": " + parsed.status().message());
    auto sub = std::make_shared<Subscription>();
    sub->connection_id = connection;
    sub->subscription_id = sql;
    sub->user_id = user;
    sub->sql = sql;
    sub->query = std::move(parsed).value();
    auto& outlet = outlets_[connection];
    if (!outlet) outlet = std::make_shared<RecordingOutlet>();
    sub->outlet = outlet;
    hub_.Add(sub);
    if (ready) hub_.MarkReady(sub->live_id);
    return sub;
  }

  // What the subscription's connection received for it, summarized.
  std::vector<std::string> Got(const std::shared_ptr<Subscription>& sub) {
    std::vector<std::string> out;
    const std::string id_field = "\"subscription_id\":\"" + sub->subscription_id + "\"";
    for (const auto& m : outlets_[sub->connection_id]->messages) {
      if (m.find(id_field) != std::string::npos) out.push_back(Summary(m));
    }
    return out;
  }

  void Publish(std::vector<ChangeEvent> events) {
    seq_ += static_cast<int64_t>(events.size());
    hub_.Publish(events, seq_);
  }

  catalog::CatalogState state_;
  LiveHub hub_;
  std::map<std::string, std::shared_ptr<RecordingOutlet>> outlets_;
  int64_t seq_ = 100;
};

using Strings = std::vector<std::string>;
constexpr auto kInsert = ChangeEvent::Kind::kInsert;
constexpr auto kUpdate = ChangeEvent::Kind::kUpdate;
constexpr auto kDelete = ChangeEvent::Kind::kDelete;

TEST_F(LiveHubTest, UserTableRowsReachOnlyTheirOwner) {
  auto alice1 = Subscribe("c1", "alice", "SELECT * FROM notes");
  auto alice2 = Subscribe("c2", "alice", "SELECT * FROM app.notes WHERE id > 1");
  auto bob = Subscribe("c3", "bob", "SELECT * FROM notes");

  Publish({Event("app:notes", "alice", kInsert, {Row(1, "x", 101), Row(2, "y", 101)})});
  Publish({Event("app:notes", "bob", kInsert, {Row(3, "z", 102)})});
  Publish({Event("app:notes", "carol", kInsert, {Row(4, "w", 103)})});
  // Another table's rows in alice's scope concern none of these subscriptions.
  Publish({Event("app:msgs", "", kInsert, {Row(5, "a", 104)})});

  EXPECT_EQ(Got(alice1), (Strings{"insert 1/x 2/y"}));
  EXPECT_EQ(Got(alice2), (Strings{"insert 2/y"}));
  EXPECT_EQ(Got(bob), (Strings{"insert 3/z"}));
}

TEST_F(LiveHubTest, SharedTableRoutesByTheIndexedEquality) {
  auto room_a = Subscribe("c1", "alice", "SELECT * FROM msgs WHERE room = 'a'");
  auto room_b = Subscribe("c2", "bob", "SELECT * FROM msgs WHERE room = 'b'");
  auto a_big = Subscribe("c3", "carol", "SELECT * FROM msgs m WHERE id > 10 AND m.room = 'a'");
  auto not_a = Subscribe("c4", "dave", "SELECT * FROM msgs WHERE room <> 'a'");
  auto all = Subscribe("c5", "erin", "SELECT * FROM msgs");
  // The case under test: these are routed through the equality index, not scanned.
  ASSERT_TRUE(room_a->query.equality.has_value());
  ASSERT_TRUE(a_big->query.equality.has_value());
  ASSERT_FALSE(not_a->query.equality.has_value());

  Publish({Event("app:msgs", "", kInsert,
                 {Row(1, "a", 101), Row(2, "b", 101), Row(11, "a", 101), Row(3, std::nullopt, 101),
                  Row(4, "A", 101)})});
  Publish({Event("app:msgs", "", kDelete, {Row(2, "b", 102), Row(11, "a", 102)})});

  EXPECT_EQ(Got(room_a), (Strings{"insert 1/a 11/a", "delete old 11/a"}));
  EXPECT_EQ(Got(room_b), (Strings{"insert 2/b", "delete old 2/b"}));
  EXPECT_EQ(Got(a_big), (Strings{"insert 11/a", "delete old 11/a"}));
  EXPECT_EQ(Got(not_a), (Strings{"insert 2/b 4/A", "delete old 2/b"}));
  EXPECT_EQ(Got(all), (Strings{"insert 1/a 2/b 11/a 3/null 4/A", "delete old 2/b 11/a"}));
}

TEST_F(LiveHubTest, UpdatesThatEnterOrLeaveASubscriptionBecomeInsertsAndDeletes) {
  auto room_a = Subscribe("c1", "alice", "SELECT * FROM msgs WHERE room = 'a'");
  auto room_b = Subscribe("c2", "bob", "SELECT * FROM msgs WHERE room = 'b'");
  auto all = Subscribe("c3", "carol", "SELECT * FROM msgs");

  // Row 1 moves from b to a; row 2 stays in a; row 3 leaves a for no room.
  Publish({Event("app:msgs", "", kUpdate,
                 {Row(1, "a", 101), Row(2, "a", 101), Row(3, std::nullopt, 101)},
                 {Row(1, "b", 50), Row(2, "a", 50), Row(3, "a", 50)})});

  EXPECT_EQ(Got(room_a), (Strings{"insert 1/a", "update 2/a old 2/a", "delete old 3/a"}));
  EXPECT_EQ(Got(room_b), (Strings{"delete old 1/b"}));
  EXPECT_EQ(Got(all), (Strings{"update 1/a 2/a 3/null old 1/b 2/a 3/a"}));
}

TEST_F(LiveHubTest, EventsBeforeTheSnapshotIsQueuedAreHeldThenSentInOrder) {
  auto early = Subscribe("c1", "alice", "SELECT * FROM msgs WHERE room = 'a'", /*ready=*/false);
  Publish({Event("app:msgs", "", kInsert, {Row(1, "a", 101)})});
  Publish({Event("app:msgs", "", kDelete, {Row(1, "a", 102)})});
  EXPECT_TRUE(Got(early).empty());
  hub_.MarkReady(early->live_id);
  Publish({Event("app:msgs", "", kInsert, {Row(2, "a", 103)})});
  EXPECT_EQ(Got(early), (Strings{"insert 1/a", "delete old 1/a", "insert 2/a"}));
}

TEST_F(LiveHubTest, RemoveConnectionEndsItsSubscriptionsOnly) {
  auto gone1 = Subscribe("c1", "alice", "SELECT * FROM msgs WHERE room = 'a'");
  auto gone2 = Subscribe("c1", "alice", "SELECT * FROM notes");
  auto stays = Subscribe("c2", "alice", "SELECT * FROM msgs WHERE room = 'a'");
  ASSERT_EQ(hub_.CountForConnection("c1"), 2u);
  ASSERT_EQ(hub_.CountForUser("alice"), 3u);

  hub_.RemoveConnection("c1");
  EXPECT_EQ(hub_.CountForConnection("c1"), 0u);
  EXPECT_EQ(hub_.CountForUser("alice"), 1u);
  EXPECT_EQ(hub_.List().size(), 1u);

  Publish({Event("app:msgs", "", kInsert, {Row(1, "a", 101)})});
  Publish({Event("app:notes", "alice", kInsert, {Row(2, "x", 102)})});
  EXPECT_TRUE(outlets_["c1"]->messages.empty());
  EXPECT_EQ(Got(stays), (Strings{"insert 1/a"}));

  // Removing the last subscription on an index entry leaves the others routable.
  EXPECT_TRUE(hub_.Remove(stays->live_id));
  EXPECT_FALSE(hub_.Remove(stays->live_id));
  auto again = Subscribe("c3", "bob", "SELECT * FROM msgs WHERE room = 'a'");
  Publish({Event("app:msgs", "", kInsert, {Row(3, "a", 103)})});
  EXPECT_EQ(Got(again), (Strings{"insert 3/a"}));
  EXPECT_EQ(Got(stays), (Strings{"insert 1/a"}));
}

// Cluster mode: the shards some subscription waits for (a node tells their leaders, which
// then tell followers of commits sooner): a user's rows, a SHARED table's; none once the
// subscriptions end.
TEST_F(LiveHubTest, WatchedShardsAreThoseOfTheSubscriptionsHeld) {
  EXPECT_TRUE(hub_.WatchedShards().empty()) << "a single server watches no shard";
  hub_.SetShardOf([](const std::string& table_id, const std::string& scope) {
    if (table_id == "app:msgs") return 100;
    return scope == "alice" ? 1 : 2;
  });
  EXPECT_TRUE(hub_.WatchedShards().empty());
  auto notes = Subscribe("c1", "alice", "SELECT * FROM notes");
  auto room = Subscribe("c2", "bob", "SELECT * FROM msgs WHERE room = 'a'");
  EXPECT_EQ(hub_.WatchedShards(), (std::set<int32_t>{1, 100}));
  auto bobs = Subscribe("c2", "bob", "SELECT * FROM notes");
  EXPECT_EQ(hub_.WatchedShards(), (std::set<int32_t>{1, 2, 100}));
  EXPECT_TRUE(hub_.Remove(room->live_id));
  EXPECT_EQ(hub_.WatchedShards(), (std::set<int32_t>{1, 2}));
  hub_.RemoveConnection("c2");
  hub_.RemoveConnection("c1");
  EXPECT_TRUE(hub_.WatchedShards().empty());
}

TEST_F(LiveHubTest, ASubscriptionOfAnOlderSchemaEndsWithAnError) {
  auto sub = Subscribe("c1", "alice", "SELECT * FROM msgs");
  auto event = Event("app:msgs", "", kInsert, {Row(1, "a", 101)});
  event.schema_version = 2;  // an ALTER TABLE committed meanwhile
  Publish({std::move(event)});
  EXPECT_EQ(Got(sub), (Strings{"error"}));
  EXPECT_EQ(hub_.CountForConnection("c1"), 0u);
}

// Random statements on the shared table against a model of what each subscription must
// see: for each statement and subscription, its inserts, then updates, then deletes.
TEST_F(LiveHubTest, RandomChangesReachExactlyTheSubscriptionsTheyConcern) {
  using Room = std::optional<std::string>;
  struct Model {
    std::shared_ptr<Subscription> sub;
    std::function<bool(int64_t id, const Room& room)> matches;
  };
  std::vector<Model> models = {
      {Subscribe("c1", "u1", "SELECT * FROM msgs WHERE room = 'a'"),
       [](int64_t, const Room& r) { return r == "a"; }},
      {Subscribe("c1", "u1", "SELECT * FROM msgs WHERE 'b' = room"),
       [](int64_t, const Room& r) { return r == "b"; }},
      {Subscribe("c2", "u2", "SELECT * FROM msgs WHERE room = 'a' AND id % 2 = 0"),
       [](int64_t id, const Room& r) { return r == "a" && id % 2 == 0; }},
      {Subscribe("c2", "u2", "SELECT * FROM msgs WHERE room IS NULL OR room = 'c'"),
       [](int64_t, const Room& r) { return !r || r == "c"; }},
      {Subscribe("c3", "u3", "SELECT * FROM msgs"), [](int64_t, const Room&) { return true; }},
      {Subscribe("c3", "u3", "SELECT * FROM msgs WHERE id < 0"),
       [](int64_t, const Room&) { return false; }},
  };
  std::map<std::string, Strings> expected;

  std::mt19937 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<Room> rooms = {"a", "b", "c", std::nullopt};
  std::map<int64_t, Room> table;  // the rows as committed so far
  for (int statement = 0; statement < 300; ++statement) {
    const int64_t seq = seq_ + 1;
    ChangeEvent event;
    const int kind = table.empty() ? 0 : pick(3);
    if (kind == 0) {
      event = Event("app:msgs", "", kInsert, {});
      for (int n = 1 + pick(3); n > 0; --n) {
        const int64_t id = static_cast<int64_t>(table.size()) * 10 + pick(10) + 1000 * statement;
        if (table.contains(id)) continue;
        table[id] = rooms[pick(4)];
        event.rows.push_back(Row(id, table[id], seq));
      }
    } else {
      event = Event("app:msgs", "", kind == 1 ? kUpdate : kDelete, {});
      for (auto it = table.begin(); it != table.end();) {
        if (pick(4) != 0) {
          ++it;
          continue;
        }
        if (kind == 1) {
          event.old_rows.push_back(Row(it->first, it->second, seq - 1));
          it->second = rooms[pick(4)];
          event.rows.push_back(Row(it->first, it->second, seq));
          ++it;
        } else {
          event.rows.push_back(Row(it->first, it->second, seq - 1));
          it = table.erase(it);
        }
      }
      if (event.rows.empty()) continue;
    }
    // What each subscription must receive for this statement.
    auto text = [](const RowImage& row) {
      const Cell& room = row.cells[1];
      return " " + std::to_string(std::get<int64_t>(row.cells[0])) + "/" +
             (store::IsNull(room) ? "null" : std::get<std::string>(room));
    };
    auto room_of = [](const RowImage& row) -> Room {
      if (store::IsNull(row.cells[1])) return std::nullopt;
      return std::get<std::string>(row.cells[1]);
    };
    for (const Model& m : models) {
      std::string ins, upd, old, del;
      for (size_t i = 0; i < event.rows.size(); ++i) {
        const RowImage& row = event.rows[i];
        const int64_t id = std::get<int64_t>(row.cells[0]);
        const bool is = m.matches(id, room_of(row));
        if (event.kind == kInsert && is) ins += text(row);
        if (event.kind == kDelete && is) del += text(row);
        if (event.kind == kUpdate) {
          const RowImage& before = event.old_rows[i];
          const bool was = m.matches(id, room_of(before));
          if (was && is) {
            upd += text(row);
            old += text(before);
          } else if (is) {
            ins += text(row);
          } else if (was) {
            del += text(before);
          }
        }
      }
      auto& want = expected[m.sub->subscription_id];
      if (!ins.empty()) want.push_back("insert" + ins);
      if (!upd.empty()) want.push_back("update" + upd + " old" + old);
      if (!del.empty()) want.push_back("delete old" + del);
    }
    Publish({std::move(event)});
  }
  for (const Model& m : models) {
    EXPECT_EQ(Got(m.sub), expected[m.sub->subscription_id]) << m.sub->sql;
  }
  // Not vacuous: the scenario produced each kind of message.
  size_t total = 0;
  for (const auto& [id, list] : expected) total += list.size();
  EXPECT_GT(total, 300u);
}

}  // namespace
}  // namespace kalam::live
