#include "cluster/shard_groups.h"

extern "C" {  // the library's headers have no C++ guards
#include <raft.h>
#include <raft/uv.h>
}
#include <spdlog/spdlog.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <thread>

#include "cluster/raft_port.h"
#include "common/log_throttle.h"

namespace kalam::cluster {
namespace {

// At most one leadership transfer this often, so leaders settle between them.
constexpr std::chrono::milliseconds kBalanceEvery{300};
// How a refused proposal names the shard's leader (LeaderNamedIn reads it back).
constexpr char kLeaderIs[] = " (its leader is '";

// Open log segments are preallocated: smaller than libraft's 8 MiB, as a node runs dozens
// of groups. An entry larger than a segment still goes in one (the segment grows).
constexpr size_t kSegmentBytes = 2 * 1024 * 1024;

// A replica the shard map moved away leaves its group once the leader removed it, or —
// should the entry removing it never reach it — this long after the map stopped listing
// it, once it has heard no leader for half as long.
constexpr auto kLeaveAfter = std::chrono::seconds(10);

std::string GroupDir(const std::string& dir, int32_t shard) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard-%04d", shard);
  return dir + "/" + name;
}

// libraft sends and stores an entry's bytes as they are but reads them back padded to
// 8 bytes: an entry is framed as its length (8 bytes, little-endian), the bytes, zeros to
// the next multiple of 8.
std::string FrameEntry(std::string_view payload) {
  std::string framed(8 + (payload.size() + 7) / 8 * 8, '\0');
  for (int i = 0; i < 8; ++i) framed[i] = static_cast<char>((payload.size() >> (8 * i)) & 0xff);
  std::memcpy(framed.data() + 8, payload.data(), payload.size());
  return framed;
}

// The payload of a framed entry; nullopt when it is not one.
std::optional<std::string_view> UnframeEntry(const raft_buffer& buf) {
  if (buf.len < 8) return std::nullopt;
  const auto* bytes = static_cast<const unsigned char*>(buf.base);
  uint64_t length = 0;
  for (int i = 0; i < 8; ++i) length |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (length > buf.len - 8) return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(bytes) + 8, length);
}

// The error a proposal's callback brought, in the contract's terms.
Status ProposalFailed(int status) {
  if (status == RAFT_NOTLEADER || status == RAFT_LEADERSHIPLOST) {
    return {Code::kServiceUnavailable,
            std::string("the shard's leadership changed while the write was replicated (") + raft_strerror(status) +
                "): it may or may not have been applied; retry once the shard has a leader"};
  }
  if (status == RAFT_CANCELED || status == RAFT_SHUTDOWN) {
    return {Code::kServiceUnavailable, "the node is shutting down"};
  }
  return {Code::kInternalError, std::string("replication failed: ") + raft_strerror(status)};
}

struct Proposal;

}  // namespace

struct Group;

struct ShardGroups::Impl {
  ShardGroupsOptions options;
  ShardStateMachine* machine = nullptr;
  uint64_t id = 0;
  uv_loop_t loop{};
  uv_async_t wake{};
  uv_timer_t tick{};
  // Followers learn that entries committed from the leader's next message; idle, that is
  // a heartbeat or two away (up to 2 x heartbeat_timeout_ms), and their subscribers and
  // reads wait that long. A leader that applied entries and appended nothing since within
  // kCommitNudgeMs appends an empty barrier, which carries the commit index at once.
  uv_timer_t nudge{};
  bool nudge_armed = false;
  std::map<int32_t, uint64_t> to_nudge;  // shard -> its last log index when it applied
  void NoteLeaderApplied(Group* g);
  void ArmNudge();  // Nudge in kCommitNudgeMs, unless it is due already
  void Nudge();
  std::unique_ptr<RaftPort> port;
  std::thread thread;

  // The loop thread's only.
  std::map<int32_t, std::unique_ptr<Group>> groups;
  ClusterPlan plan;
  std::map<uint64_t, std::string> node_of_id;
  bool stopping = false;
  LogThrottle apply_failures_logged{std::chrono::minutes(1)};

  std::mutex tasks_mutex;
  std::vector<std::function<void()>> tasks;
  bool accepting = true;

  mutable std::mutex views_mutex;
  std::vector<GroupView> views;
  // The shards this node leads with every earlier term's entries applied (a barrier of its
  // term done): ReadAtLeader answers for them without the loop. Set by the loop thread when
  // such a barrier completes, rebuilt every tick (a leadership lost leaves it then).
  mutable std::shared_mutex readable_mutex;
  std::set<int32_t> readable;
  // Each shard's read lease here, in steady-clock nanoseconds (0: none): set on the loop
  // thread as the voters answer (RenewLease), read by any thread.
  static constexpr int32_t kMaxShards = 4096;
  std::unique_ptr<std::atomic<int64_t>[]> lease_until{new std::atomic<int64_t>[kMaxShards]()};
  // Each shard's ready_since while this node leads it, caught up and not handing it over;
  // 0 otherwise. Set on the loop thread, read by any (ShardGroups::LedSince).
  std::unique_ptr<std::atomic<uint64_t>[]> led_since{new std::atomic<uint64_t>[kMaxShards]()};
  void NoteLedSince(const Group* g, bool leads);
  bool LeaseHeld(int32_t shard) const {
    return shard >= 0 && shard < kMaxShards &&
           std::chrono::steady_clock::now().time_since_epoch().count() < lease_until[shard].load();
  }
  void RenewLease(Group* g);
  std::chrono::nanoseconds read_lease{0};
  // The last entry applied of each shard, for WaitApplied: raised as entries are applied
  // (and every tick, which sees snapshots restored).
  std::mutex applied_mutex;
  std::condition_variable applied_changed;
  std::map<int32_t, uint64_t> applied;
  void NoteApplied(int32_t shard, uint64_t index) {
    {
      std::lock_guard lock(applied_mutex);
      uint64_t& last = applied[shard];
      if (index <= last) return;
      last = index;
    }
    applied_changed.notify_all();
  }

  // Runs task on the loop thread; false once the groups are shutting down.
  bool Post(std::function<void()> task) {
    {
      std::lock_guard lock(tasks_mutex);
      if (!accepting) return false;
      tasks.push_back(std::move(task));
    }
    uv_async_send(&wake);
    return true;
  }

  void RunTasks() {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard lock(tasks_mutex);
      run.swap(tasks);
    }
    for (auto& task : run) task();
  }

  void Apply(const ClusterPlan& next);
  // Appends entry to shard's log (after its leader's barrier, the first time in a term);
  // proposal learns the outcome.
  void Submit(int32_t shard, std::string entry, std::shared_ptr<Proposal> proposal, uint64_t fence);
  std::atomic<uint64_t> leadership_epoch{1};
  // Answers done once this node leads shard with its earlier terms' entries applied; the
  // refusal Submit gives when it does not lead it.
  void ReadyToRead(int32_t shard, std::shared_ptr<std::promise<Result<uint64_t>>> done);
  // SERVICE_UNAVAILABLE for a node that does not lead g's shard, naming the leader if known.
  Status NotLeader(Group* g) const;
  // "this node holds no replica of shard N", naming its leader when the hint knows it.
  std::string NoReplica(int32_t shard) const;
  // Runs then(status) once a barrier of the leader's current term is applied (at once when
  // one is); starts that barrier if none is in flight.
  void AfterBarrier(Group* g, std::function<void(int)> then);
  void MarkReadable(int32_t shard, bool readable_now);
  void StartGroup(int32_t shard, const ShardPlan& shard_plan);
  void CloseGroup(Group* g);
  // Refreshes the views; each leader brings its group's membership to the plan's.
  void Tick();
  GroupView ViewOf(Group* g, const ShardPlan* planned) const;
  // Adds (or makes a voter of) the first replica the plan lists that the group lacks.
  void Reconcile(Group* g, const ShardPlan& planned);
  // Hands the leadership of one group this node leads to a caught-up voter leading fewer,
  // while this node leads more than its share of the groups (at most one transfer a
  // balance_every).
  void Balance(const std::vector<GroupView>& views);
  // Hands the group's leadership to target (a caught-up voter); false when libraft refuses.
  bool TransferTo(Group* g, raft_id target);
  // Whether the node's own Raft server is in the group's configuration.
  bool InConfiguration(const Group* g) const;
  // When the plan stopped listing this node for a shard it still runs.
  std::map<int32_t, std::chrono::steady_clock::time_point> excluded_since;
  // Former replicas being removed (ShardStateMachine::Forget, off the loop thread).
  std::map<int32_t, std::future<void>> forgetting;
  std::chrono::steady_clock::time_point last_transfer{};
  void Stop();
  std::string NodeOf(uint64_t raft_id) const {
    auto it = node_of_id.find(raft_id);
    return it != node_of_id.end() ? it->second : "raft-" + std::to_string(raft_id);
  }
};

// One shard's group. Its address is stable (libraft keeps pointers into it).
struct Group {
  ShardGroups::Impl* owner = nullptr;
  int32_t shard = 0;
  raft r{};
  raft_io io{};
  raft_uv_transport transport{};
  raft_fsm fsm{};
  bool closing = false;
  bool changing = false;  // a membership change is in flight
  raft_change change{};
  // Since when no leader of the group is known here (the epoch: one is).
  std::chrono::steady_clock::time_point leaderless_since{};
  // A leader takes proposals once it has applied every entry of the terms before its own
  // (a barrier of its term applied): a statement computed on its store then never misses
  // a write an earlier leader committed.
  raft_term ready_term = 0;
  // The leadership epoch (ShardGroups::LeadershipEpoch) at which the group last became
  // readable here or began a transfer: a proposal fenced before it is refused.
  uint64_t ready_since = 0;
  bool barrier_pending = false;
  raft_term barrier_term = 0;
  struct raft_barrier barrier {};
  // The empty barrier that tells the followers of a commit (Impl::Nudge), in flight, and
  // when the last one was appended.
  bool nudge_pending = false;
  struct raft_barrier nudge_barrier {};
  std::chrono::steady_clock::time_point nudged_at{};
  // The log's last index once the last of those barriers was appended: while it is still
  // the last, the followers know every entry before it is committed.
  uint64_t nudged_index = 0;
  // When a read index was last answered: a replica elsewhere is waiting to apply up to it.
  std::chrono::steady_clock::time_point read_index_at{};
  std::vector<std::function<void(int)>> after_barrier;  // called with the barrier's status
  // A leadership transfer in flight (Balance). Meanwhile this node answers no read as the
  // leader (its successor may already take writes): reads asked wait for the transfer's
  // end (then follow the leader it left, or this node again if it failed).
  bool transferring = false;
  struct raft_transfer transfer {};
  std::vector<std::function<void()>> after_transfer;
  // The read lease: when each voter last answered this node's appends (leader only), and
  // the reads waiting for the lease (answered as a majority answers again).
  std::map<raft_id, std::pair<std::chrono::steady_clock::time_point, raft_term>> answered;  // and in which term
  std::vector<std::function<void()>> after_lease;
  // libraft's receive callback and the io's start, wrapped to see the answers.
  raft_io_recv_cb recv = nullptr;
  int (*start)(struct raft_io*, unsigned, raft_io_tick_cb, raft_io_recv_cb) = nullptr;
};

namespace {

Group* GroupOf(raft_fsm* fsm) { return static_cast<Group*>(fsm->data); }

// Runs (and empties) a list of waiting reads; one may queue itself again meanwhile.
void AnswerWaiting(std::vector<std::function<void()>>& list) {
  std::vector<std::function<void()>> waiting = std::move(list);
  list.clear();
  for (auto& then : waiting) then();
}

// The io's data is its raft instance (raft_init sets it), whose data is the group.
Group* GroupOfIo(raft_io* io) { return static_cast<Group*>(static_cast<raft*>(io->data)->data); }

void ReceiveWatched(raft_io* io, raft_message* message) {
  Group* g = GroupOfIo(io);
  if (message->type == RAFT_IO_APPEND_ENTRIES_RESULT) {
    g->answered[message->server_id] = {std::chrono::steady_clock::now(), g->r.current_term};
    g->recv(io, message);
    g->owner->RenewLease(g);
    return;
  }
  g->recv(io, message);
}

int StartWatched(raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  Group* g = GroupOfIo(io);
  g->recv = recv;
  return g->start(io, msecs, tick, ReceiveWatched);
}

int FsmApply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  Group* g = GroupOf(fsm);
  *result = nullptr;
  const uint64_t index = raft_last_applied(&g->r) + 1;
  const std::optional<std::string_view> payload = UnframeEntry(*buf);
  const Status s = payload ? g->owner->machine->Apply(g->shard, index, *payload)
                           : Status(Code::kInternalError, "a malformed entry");
  if (s.ok() && !g->closing) {
    g->owner->NoteApplied(g->shard, index);
    if (raft_state(&g->r) == RAFT_LEADER) g->owner->NoteLeaderApplied(g);
  }
  if (!s.ok()) {
    if (auto held_back = g->owner->apply_failures_logged.Allow()) {
      spdlog::error("cluster: shard {} cannot apply entry {}: {} ({} more since the last line)", g->shard, index,
                    s.message(), *held_back);
    }
    return RAFT_IOERR;
  }
  return 0;
}

int FsmSnapshot(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
  Group* g = GroupOf(fsm);
  auto state = g->owner->machine->Snapshot(g->shard);
  if (!state.ok()) {
    spdlog::error("cluster: shard {} cannot take a snapshot: {}", g->shard, state.status().message());
    return RAFT_IOERR;
  }
  *bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  if (*bufs == nullptr) return RAFT_NOMEM;
  (*bufs)[0].len = state->size();
  (*bufs)[0].base = raft_malloc(std::max<size_t>(1, state->size()));
  if ((*bufs)[0].base == nullptr) {
    raft_free(*bufs);
    return RAFT_NOMEM;
  }
  std::memcpy((*bufs)[0].base, state->data(), state->size());
  *n_bufs = 1;
  return 0;
}

int FsmRestore(raft_fsm* fsm, raft_buffer* buf) {
  Group* g = GroupOf(fsm);
  const Status s =
      g->owner->machine->Restore(g->shard, std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!s.ok()) {
    spdlog::error("cluster: shard {} cannot restore a snapshot: {}", g->shard, s.message());
    return RAFT_IOERR;
  }
  raft_free(buf->base);  // the state machine owns the buffer once restored
  return 0;
}

void GroupClosed(raft* r) {
  auto* g = static_cast<Group*>(r->data);
  ShardGroups::Impl* owner = g->owner;
  raft_uv_close(&g->io);
  RaftPort::Release(&g->transport);
  owner->groups.erase(g->shard);  // g is gone
  if (owner->stopping && owner->groups.empty()) owner->Stop();
}

void BarrierDone(struct raft_barrier* req, int status) {
  auto* g = static_cast<Group*>(req->data);
  g->barrier_pending = false;
  if (status == 0 && g->ready_term != g->barrier_term) {
    g->ready_term = g->barrier_term;
    g->ready_since = ++g->owner->leadership_epoch;
    g->owner->NoteLedSince(g, raft_state(&g->r) == RAFT_LEADER);
    // A lease held in an earlier term does not carry over: answers of this term renew it.
    if (g->shard >= 0 && g->shard < ShardGroups::Impl::kMaxShards) g->owner->lease_until[g->shard].store(0);
    g->owner->RenewLease(g);
  }
  std::vector<std::function<void(int)>> waiting;
  waiting.swap(g->after_barrier);
  for (auto& submit : waiting) submit(status);
}

void NudgeDone(struct raft_barrier* req, int /*status*/) { static_cast<Group*>(req->data)->nudge_pending = false; }

void ChangeDone(raft_change* req, int status) {
  auto* g = static_cast<Group*>(req->data);
  g->changing = false;
  if (status != 0) spdlog::warn("cluster: shard {}: membership change failed: {}", g->shard, raft_strerror(status));
}

struct Proposal {
  struct raft_apply req {};
  std::promise<Status> done;
};

void Applied(struct raft_apply* req, int status, void*) {
  auto* held = static_cast<std::shared_ptr<Proposal>*>(req->data);
  (*held)->done.set_value(status == 0 ? Status::Ok() : ProposalFailed(status));
  delete held;
}

}  // namespace

void ShardGroups::Impl::StartGroup(int32_t shard, const ShardPlan& shard_plan) {
  std::error_code left_ec;
  const bool founder =
      std::find(shard_plan.initial.begin(), shard_plan.initial.end(), options.node_id) != shard_plan.initial.end() &&
      !std::filesystem::exists(GroupDir(options.dir, shard) + ".left", left_ec);
  raft_configuration configuration;
  raft_configuration_init(&configuration);
  if (founder) {
    // Every founder bootstraps the same configuration: wait until all their addresses are known.
    for (const std::string& node : shard_plan.initial) {
      auto address = plan.raft_addresses.find(node);
      if (address == plan.raft_addresses.end() || address->second.empty()) {
        raft_configuration_close(&configuration);
        return;
      }
      raft_configuration_add(&configuration, ShardGroups::RaftId(node), address->second.c_str(), RAFT_VOTER);
    }
  }
  const std::string dir = GroupDir(options.dir, shard);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto group = std::make_unique<Group>();
  Group* g = group.get();
  g->owner = this;
  g->shard = shard;
  port->Attach(&g->transport, static_cast<uint32_t>(shard));
  int rv = raft_uv_init(&g->io, &loop, dir.c_str(), &g->transport);
  if (rv != 0) {
    spdlog::error("cluster: shard {}: cannot open its Raft log in {}: {}", shard, dir, g->io.errmsg);
    RaftPort::Release(&g->transport);
    raft_configuration_close(&configuration);
    return;
  }
  raft_uv_set_segment_size(&g->io, kSegmentBytes);
  g->fsm.version = 1;
  g->fsm.data = g;
  g->fsm.apply = FsmApply;
  g->fsm.snapshot = FsmSnapshot;
  g->fsm.restore = FsmRestore;
  rv = raft_init(&g->r, &g->io, &g->fsm, id, options.address.c_str());
  if (rv != 0) {
    spdlog::error("cluster: shard {}: cannot start its Raft group: {}", shard, raft_strerror(rv));
    raft_uv_close(&g->io);
    RaftPort::Release(&g->transport);
    raft_configuration_close(&configuration);
    return;
  }
  g->r.data = g;
  g->change.data = g;
  // Every answer to this node's appends passes by RenewLease (the read lease).
  g->start = g->io.start;
  g->io.start = StartWatched;
  raft_set_election_timeout(&g->r, options.election_timeout_ms);
  raft_set_heartbeat_timeout(&g->r, options.heartbeat_timeout_ms);
  raft_set_snapshot_threshold(&g->r, options.snapshot_threshold);
  raft_set_snapshot_trailing(&g->r, options.snapshot_trailing);
  raft_set_install_snapshot_timeout(&g->r, options.install_snapshot_timeout_ms);
  raft_set_pre_vote(&g->r, true);  // a replica back from a partition doesn't depose a working leader
  if (founder) {
    rv = raft_bootstrap(&g->r, &configuration);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {  // CANTBOOTSTRAP: it has started before
      spdlog::error("cluster: shard {}: cannot bootstrap its Raft group: {}", shard, raft_strerror(rv));
    }
  }
  raft_configuration_close(&configuration);
  NoteApplied(shard, raft_last_applied(&group->r));  // held here from now on (WaitApplied)
  groups[shard] = std::move(group);
  rv = raft_start(&g->r);
  if (rv != 0) {
    spdlog::error("cluster: shard {}: cannot start its Raft group: {}", shard, raft_strerror(rv));
    CloseGroup(g);
  }
}

void ShardGroups::Impl::CloseGroup(Group* g) {
  if (g->closing) return;
  g->closing = true;
  NoteLedSince(g, false);
  MarkReadable(g->shard, false);
  if (g->shard >= 0 && g->shard < kMaxShards) lease_until[g->shard].store(0);
  {
    // No longer held: a read waiting to catch up here is refused (the rows may be going).
    std::lock_guard lock(applied_mutex);
    applied.erase(g->shard);
  }
  applied_changed.notify_all();
  // Reads waiting for a transfer are answered now (the group is going: no replica here).
  AnswerWaiting(g->after_transfer);
  AnswerWaiting(g->after_lease);
  raft_close(&g->r, GroupClosed);
}

void ShardGroups::Impl::Apply(const ClusterPlan& next) {
  if (stopping) return;
  plan = next;
  node_of_id.clear();
  for (const auto& [node, address] : plan.raft_addresses) node_of_id[ShardGroups::RaftId(node)] = node;
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [shard, shard_plan] : plan.shards) {
    if (shard_plan.replicas.empty()) continue;  // an entry not read right: nothing moves on it
    const bool listed = std::find(shard_plan.replicas.begin(), shard_plan.replicas.end(), options.node_id) !=
                        shard_plan.replicas.end();
    auto running = groups.find(shard);
    if (listed) {
      excluded_since.erase(shard);
      if (running == groups.end() && !forgetting.contains(shard)) StartGroup(shard, shard_plan);
      continue;
    }
    if (running != groups.end()) {
      // Moved away: this node leaves once the leader has removed it from the group (or
      // after a while: the removal's entry may never reach it), never while it leads.
      Group* g = running->second.get();
      const auto since = excluded_since.try_emplace(shard, now).first->second;
      // Removed: out of its configuration, or (the removal's entry never reached it) no
      // leader heard of for a while since the map moved it away — a voter still in the
      // group hears its leader every heartbeat.
      const bool leaderless = g->leaderless_since != std::chrono::steady_clock::time_point{} &&
                              now - g->leaderless_since > kLeaveAfter / 2;
      if (!g->closing && raft_state(&g->r) != RAFT_LEADER &&
          (!InConfiguration(g) || (now - since > kLeaveAfter && leaderless))) {
        spdlog::info("cluster: shard {}: this node's replica moved to another node; leaving its group", shard);
        CloseGroup(g);
      }
      continue;
    }
    // Not running, not listed: what a former replica left here goes (the shard map lists
    // the shard, so this is not a map not read yet) — off this thread, as it scans the
    // store; the shard's group does not start again until it is done.
    excluded_since.erase(shard);
    const std::string dir = GroupDir(options.dir, shard);
    std::error_code ec;
    if (forgetting.contains(shard) || !std::filesystem::exists(dir, ec)) continue;
    forgetting.emplace(shard, std::async(std::launch::async, [machine = machine, shard, dir] {
      const Status forgotten = machine->Forget(shard);
      if (!forgotten.ok()) {
        spdlog::warn("cluster: shard {}: cannot remove this node's former replica: {}", shard, forgotten.message());
        return;
      }
      std::error_code removed;
      std::filesystem::remove_all(dir, removed);
      // A founder that left never bootstraps the group again: it rejoins as any node does.
      std::ofstream(dir + ".left").put('\n');
      spdlog::info("cluster: shard {}: this node's former replica removed", shard);
    }));
  }
  std::erase_if(forgetting, [](auto& entry) {
    return entry.second.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
  Tick();
}

namespace {

// The server with this id in the group's configuration (its position in at); null if none.
const raft_server* Member(const raft* r, uint64_t id, unsigned* at = nullptr) {
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    if (r->configuration.servers[i].id != id) continue;
    if (at != nullptr) *at = i;
    return &r->configuration.servers[i];
  }
  return nullptr;
}

}  // namespace

GroupView ShardGroups::Impl::ViewOf(Group* g, const ShardPlan* planned) const {
  raft* r = &g->r;
  GroupView v;
  v.shard = g->shard;
  raft_id leader = 0;
  const char* leader_address = nullptr;
  raft_leader(r, &leader, &leader_address);
  if (leader != 0) v.leader = NodeOf(leader);
  v.applied_index = raft_last_applied(r);
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    if (r->configuration.servers[i].role == RAFT_VOTER) v.voters.push_back(NodeOf(r->configuration.servers[i].id));
  }
  if (raft_state(r) != RAFT_LEADER || r->leader_state.progress == nullptr) {
    v.lag = r->commit_index > v.applied_index ? r->commit_index - v.applied_index : 0;
    return v;
  }
  const raft_index last = raft_last_index(r);
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    if (r->configuration.servers[i].role != RAFT_VOTER || r->configuration.servers[i].id == id) continue;
    v.lag = std::max<uint64_t>(v.lag, last - std::min(r->leader_state.progress[i].match_index, last));
  }
  // A replica the plan lists that does not vote yet lacks every entry.
  for (const std::string& node : planned != nullptr ? planned->replicas : std::vector<std::string>()) {
    const raft_server* member = Member(r, ShardGroups::RaftId(node));
    if (member == nullptr || member->role != RAFT_VOTER) v.lag = last;
  }
  if (planned != nullptr && !planned->replicas.empty() && r->configuration.n == planned->replicas.size() &&
      v.voters.size() == planned->replicas.size()) {
    std::vector<std::string> listed = planned->replicas;
    std::vector<std::string> voting = v.voters;
    std::sort(listed.begin(), listed.end());
    std::sort(voting.begin(), voting.end());
    if (listed == voting) {
      for (const std::string& node : listed) v.settled_on += (v.settled_on.empty() ? "" : ",") + node;
    }
  }
  return v;
}

void ShardGroups::Impl::Reconcile(Group* g, const ShardPlan& planned) {
  raft* r = &g->r;
  for (const std::string& node : planned.replicas) {
    const uint64_t node_id = ShardGroups::RaftId(node);
    const raft_server* member = Member(r, node_id);
    if (member != nullptr && member->role == RAFT_VOTER) continue;
    int rv = 0;
    if (member == nullptr) {
      // Its address not known yet: nothing else changes meanwhile (a replica leaves only
      // once every listed one votes).
      auto address = plan.raft_addresses.find(node);
      if (address == plan.raft_addresses.end() || address->second.empty()) return;
      rv = raft_add(r, &g->change, node_id, address->second.c_str(), ChangeDone);
    } else {
      // A voter once it has caught up on the log (the library waits for that).
      rv = raft_assign(r, &g->change, node_id, RAFT_VOTER, ChangeDone);
    }
    if (rv == 0) {
      g->changing = true;
    } else {
      spdlog::warn("cluster: shard {}: cannot add replica '{}': {}", g->shard, node, raft_strerror(rv));
    }
    return;  // one change at a time
  }
  // Every planned replica votes: a replica the plan moved away leaves the group (this
  // node hands leadership to a planned voter first).
  std::set<uint64_t> planned_ids;
  for (const std::string& node : planned.replicas) planned_ids.insert(ShardGroups::RaftId(node));
  if (planned_ids.empty()) return;
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    const raft_server& server = r->configuration.servers[i];
    if (planned_ids.contains(server.id)) continue;
    if (server.id == id) {
      if (g->transferring) return;
      for (unsigned j = 0; j < r->configuration.n; ++j) {
        const raft_server& other = r->configuration.servers[j];
        if (other.id != id && other.role == RAFT_VOTER && planned_ids.contains(other.id) && TransferTo(g, other.id)) {
          spdlog::info("cluster: shard {}: handing leadership over before leaving the group", g->shard);
          return;
        }
      }
      return;
    }
    const int rv = raft_remove(r, &g->change, server.id, ChangeDone);
    if (rv == 0) {
      g->changing = true;
      spdlog::info("cluster: shard {}: replica '{}' leaves the group", g->shard, NodeOf(server.id));
    } else {
      spdlog::warn("cluster: shard {}: cannot remove replica '{}': {}", g->shard, NodeOf(server.id), raft_strerror(rv));
    }
    return;  // one change at a time
  }
}

bool ShardGroups::Impl::InConfiguration(const Group* g) const {
  for (unsigned i = 0; i < g->r.configuration.n; ++i) {
    if (g->r.configuration.servers[i].id == id) return true;
  }
  return false;
}

void ShardGroups::Impl::RenewLease(Group* g) {
  raft* r = &g->r;
  if (g->closing || raft_state(r) != RAFT_LEADER || g->shard < 0 || g->shard >= kMaxShards) return;
  // The time by which a majority of the voters (this node counts, now) had answered.
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::chrono::steady_clock::time_point> times;
  size_t voters = 0;
  for (unsigned i = 0; i < r->configuration.n; ++i) {
    const raft_server& server = r->configuration.servers[i];
    if (server.role != RAFT_VOTER) continue;
    ++voters;
    if (server.id == id) {
      times.push_back(now);
    } else if (auto it = g->answered.find(server.id); it != g->answered.end() && it->second.second == r->current_term) {
      times.push_back(it->second.first);  // an answer of this term: to this node as its leader
    }
  }
  const size_t majority = voters / 2 + 1;
  if (times.size() < majority) return;
  std::sort(times.begin(), times.end(), std::greater<>());
  const int64_t until = (times[majority - 1] + read_lease).time_since_epoch().count();
  if (until <= lease_until[g->shard].load()) return;
  lease_until[g->shard].store(until);
  AnswerWaiting(g->after_lease);
}

void ShardGroups::Impl::Tick() {
  std::vector<GroupView> next;
  for (auto& [shard, group] : groups) {
    Group* g = group.get();
    if (g->closing) continue;
    auto planned = plan.shards.find(shard);
    const ShardPlan* shard_plan = planned != plan.shards.end() ? &planned->second : nullptr;
    next.push_back(ViewOf(g, shard_plan));
    if (next.back().leader.empty()) {
      if (g->leaderless_since == std::chrono::steady_clock::time_point{}) g->leaderless_since = std::chrono::steady_clock::now();
    } else {
      g->leaderless_since = {};
    }
    // The leader brings the group's membership to the plan's.
    if (raft_state(&g->r) == RAFT_LEADER && !g->changing && shard_plan != nullptr) Reconcile(g, *shard_plan);
  }
  Balance(next);
  std::set<int32_t> leading;
  for (auto& [shard, group] : groups) {
    Group* g = group.get();
    if (g->closing) continue;
    if (raft_state(&g->r) == RAFT_LEADER && g->ready_term == g->r.current_term && !g->transferring) {
      leading.insert(shard);
      RenewLease(g);
      NoteLedSince(g, true);
    } else {
      if (shard >= 0 && shard < kMaxShards) lease_until[shard].store(0);
      NoteLedSince(g, false);
      AnswerWaiting(g->after_lease);  // answered now: no longer the leader
    }
    NoteApplied(shard, raft_last_applied(&g->r));
  }
  {
    std::unique_lock lock(readable_mutex);
    readable = std::move(leading);
  }
  std::lock_guard lock(views_mutex);
  views = std::move(next);
}

void ShardGroups::Impl::Balance(const std::vector<GroupView>& seen) {
  const auto now = std::chrono::steady_clock::now();
  if (!options.balance_leaders || now - last_transfer < kBalanceEvery) return;
  std::map<std::string, size_t> led;
  size_t with_leader = 0;
  for (const GroupView& v : seen) {
    for (const std::string& voter : v.voters) led.try_emplace(voter, 0);
    if (v.leader.empty()) continue;
    ++with_leader;
    ++led[v.leader];
  }
  if (led.empty() || with_leader < seen.size()) return;  // an election is under way: wait
  const size_t share = (with_leader + led.size() - 1) / led.size();
  const size_t mine = led[options.node_id];
  if (mine <= share) return;
  for (auto& [shard, group] : groups) {
    Group* g = group.get();
    raft* r = &g->r;
    if (g->closing || g->changing || g->transferring || raft_state(r) != RAFT_LEADER ||
        r->leader_state.progress == nullptr) {
      continue;
    }
    // The voter leading fewest, among those with every entry.
    const raft_index last = raft_last_index(r);
    raft_id target = 0;
    size_t target_leads = mine;
    for (unsigned i = 0; i < r->configuration.n; ++i) {
      const raft_server& server = r->configuration.servers[i];
      const raft_progress& progress = r->leader_state.progress[i];
      if (server.id == id || server.role != RAFT_VOTER || progress.match_index < last || !progress.recent_recv) continue;
      const size_t leads = led[NodeOf(server.id)];
      if (leads + 1 < target_leads) {
        target = server.id;
        target_leads = leads + 1;
      }
    }
    if (target == 0) continue;
    if (TransferTo(g, target)) {
      last_transfer = now;
      return;
    }
  }
}

bool ShardGroups::Impl::TransferTo(Group* g, raft_id target) {
  g->transfer.data = g;
  if (raft_transfer(&g->r, &g->transfer, target, [](struct raft_transfer* req) {
        Group* done = static_cast<Group*>(req->data);
        done->transferring = false;
        AnswerWaiting(done->after_transfer);
      }) != 0) {
    return false;
  }
  g->transferring = true;
  g->ready_since = ++leadership_epoch;
  NoteLedSince(g, false);
  MarkReadable(g->shard, false);
  return true;
}

void ShardGroups::Impl::Stop() {
  // Every group has closed: the port, then the loop's own handles; uv_run returns.
  port->Close([this] {
    uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&nudge), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&wake), nullptr);
  });
}

ShardGroups::ShardGroups(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<ShardGroups>> ShardGroups::Start(ShardGroupsOptions options, ShardStateMachine* machine) {
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status(Code::kInternalError, "cannot create " + options.dir + ": " + ec.message());
  // A peer that goes away mid-write must fail the write, not end the process (libuv writes
  // to sockets with write(2), which raises SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>();
  Impl* p = impl.get();
  p->id = RaftId(options.node_id);
  p->options = std::move(options);
  p->read_lease = std::chrono::milliseconds(p->options.read_lease_ms != 0 ? p->options.read_lease_ms
                                                                        : p->options.election_timeout_ms * 4 / 5);
  p->machine = machine;
  uv_loop_init(&p->loop);
  auto port = RaftPort::Listen(&p->loop, p->options.bind_host, p->options.port);
  if (!port.ok()) {
    uv_loop_close(&p->loop);
    return port.status();
  }
  p->port = std::move(port).value();
  p->wake.data = p;
  uv_async_init(&p->loop, &p->wake, [](uv_async_t* a) { static_cast<Impl*>(a->data)->RunTasks(); });
  p->tick.data = p;
  uv_timer_init(&p->loop, &p->tick);
  p->nudge.data = p;
  uv_timer_init(&p->loop, &p->nudge);
  uv_timer_start(
      &p->tick, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->Tick(); }, p->options.heartbeat_timeout_ms,
      p->options.heartbeat_timeout_ms);
  p->thread = std::thread([p] {
    uv_run(&p->loop, UV_RUN_DEFAULT);
  });
  return std::unique_ptr<ShardGroups>(new ShardGroups(std::move(impl)));
}

ShardGroups::~ShardGroups() {
  Impl* p = impl_.get();
  p->Post([p] {
    {
      std::lock_guard lock(p->tasks_mutex);
      p->accepting = false;
    }
    p->stopping = true;
    uv_timer_stop(&p->tick);
    if (p->groups.empty()) {
      p->Stop();
      return;
    }
    std::vector<Group*> open;
    for (auto& [shard, g] : p->groups) open.push_back(g.get());
    for (Group* g : open) p->CloseGroup(g);
  });
  p->thread.join();
  p->RunTasks();  // proposals posted meanwhile: none can be waiting on the loop any more
  uv_loop_close(&p->loop);
}

void ShardGroups::Update(ClusterPlan plan) {
  Impl* p = impl_.get();
  p->Post([p, plan = std::move(plan)] { p->Apply(plan); });
}

Status ShardGroups::Propose(int32_t shard, std::string entry, std::chrono::milliseconds timeout) {
  std::vector<std::pair<int32_t, std::string>> one;
  one.emplace_back(shard, std::move(entry));
  return ProposeAll(std::move(one), timeout).front();
}

uint64_t ShardGroups::LeadershipEpoch() const { return impl_->leadership_epoch.load(); }

std::vector<Status> ShardGroups::ProposeAll(std::vector<std::pair<int32_t, std::string>> entries,
                                            std::chrono::milliseconds timeout, std::vector<uint64_t> fences) {
  Impl* p = impl_.get();
  std::vector<std::shared_ptr<Proposal>> proposals;
  std::vector<std::future<Status>> done;
  for (size_t i = 0; i < entries.size(); ++i) {
    proposals.push_back(std::make_shared<Proposal>());
    done.push_back(proposals.back()->done.get_future());
  }
  const bool posted = p->Post([p, proposals, fences = std::move(fences), entries = std::move(entries)]() mutable {
    for (size_t i = 0; i < entries.size(); ++i) {
      p->Submit(entries[i].first, std::move(entries[i].second), proposals[i], i < fences.size() ? fences[i] : kNoFence);
    }
  });
  std::vector<Status> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (size_t i = 0; i < done.size(); ++i) {
    if (!posted) {
      out.emplace_back(Code::kServiceUnavailable, "the node is shutting down");
    } else if (done[i].wait_until(deadline) != std::future_status::ready) {
      out.emplace_back(Code::kStatementTimeout, "the shard's log did not commit the write within " +
                                                    std::to_string(timeout.count()) + " ms: it may still be applied");
    } else {
      out.push_back(done[i].get());
    }
  }
  return out;
}

void ShardGroups::Impl::Submit(int32_t shard, std::string entry, std::shared_ptr<Proposal> proposal,
                               uint64_t fence) {
  auto found = groups.find(shard);
  if (found == groups.end() || found->second->closing) {
    proposal->done.set_value(Status(Code::kNotFound, NoReplica(shard)));
    return;
  }
  Group* g = found->second.get();
  raft* r = &g->r;
  if (raft_state(r) != RAFT_LEADER) {
    proposal->done.set_value(NotLeader(g));
    return;
  }
  if (fence != ShardGroups::kNoFence &&
      (g->transferring || g->ready_term != r->current_term || g->ready_since > fence)) {
    // The statements were computed on what this node held before it led the shard in this
    // term (or while it handed leadership over): writes of another leader may be missing.
    proposal->done.set_value(Status(Code::kServiceUnavailable, "the leadership of shard " + std::to_string(shard) +
                                                                   " changed while the statement ran: retry"));
    return;
  }
  auto submit = [r, proposal, entry = std::move(entry)](int barrier_status) {
    if (barrier_status != 0) {
      proposal->done.set_value(ProposalFailed(barrier_status));
      return;
    }
    const std::string framed = FrameEntry(entry);
    raft_buffer buf;
    buf.len = framed.size();
    buf.base = raft_malloc(framed.size());
    if (buf.base == nullptr) {
      proposal->done.set_value(Status(Code::kResourceExhausted, "out of memory for the entry"));
      return;
    }
    std::memcpy(buf.base, framed.data(), framed.size());
    proposal->req.data = new std::shared_ptr<Proposal>(proposal);
    const int rv = raft_apply(r, &proposal->req, &buf, 1, Applied);
    if (rv != 0) {
      raft_free(buf.base);
      delete static_cast<std::shared_ptr<Proposal>*>(proposal->req.data);
      proposal->done.set_value(ProposalFailed(rv));
    }
  };
  AfterBarrier(g, std::move(submit));
}

std::string ShardGroups::Impl::NoReplica(int32_t shard) const {
  std::string message = "this node holds no replica of shard " + std::to_string(shard);
  if (options.leader_hint) {
    if (std::optional<std::string> leader = options.leader_hint(shard); leader && *leader != options.node_id) {
      message += std::string(kLeaderIs) + *leader + "')";
    }
  }
  return message;
}

Status ShardGroups::Impl::NotLeader(Group* g) const {
  raft_id leader = 0;
  const char* address = nullptr;
  raft_leader(&g->r, &leader, &address);
  return {Code::kServiceUnavailable, "this node does not lead shard " + std::to_string(g->shard) +
                                         (leader != 0 && leader != id ? std::string(kLeaderIs) + NodeOf(leader) + "')"
                                                                      : " (it has no leader at the moment)")};
}

void ShardGroups::Impl::AfterBarrier(Group* g, std::function<void(int)> then) {
  raft* r = &g->r;
  if (g->ready_term == r->current_term) {
    then(0);
    return;
  }
  g->after_barrier.push_back(std::move(then));
  if (g->barrier_pending) return;
  g->barrier.data = g;
  g->barrier_term = r->current_term;
  const int rv = raft_barrier(r, &g->barrier, BarrierDone);
  if (rv != 0) {
    BarrierDone(&g->barrier, rv);
  } else {
    g->barrier_pending = true;
  }
}

constexpr uint64_t kCommitNudgeMs = 5;
// At most one barrier per group this often (every 10 ms when subscribers on other nodes
// wait for its changes: ShardGroupsOptions::followers_watch): a busy group, whose appends
// carry the commit index anyway, spends few entries on them (without a cap, a loaded
// machine's pauses made nearly every batch add a barrier: a quarter fewer INSERTs per
// second).
constexpr std::chrono::milliseconds kNudgeEvery(50);
constexpr std::chrono::milliseconds kWatchedNudgeEvery(10);
// ...and every 5 ms while replicas elsewhere read caught up (a read index answered within
// the last second): a read at a follower right after a write at the leader waits for the
// follower to learn of the commit, which took up to 50 ms.
constexpr std::chrono::milliseconds kReadNudgeEvery(5);
constexpr std::chrono::seconds kReadersStay(1);

void ShardGroups::Impl::NoteLeaderApplied(Group* g) {
  to_nudge[g->shard] = raft_last_index(&g->r);
  ArmNudge();
}

void ShardGroups::Impl::ArmNudge() {
  if (nudge_armed || stopping) return;
  nudge_armed = true;
  uv_timer_start(&nudge, [](uv_timer_t* t) { static_cast<Impl*>(t->data)->Nudge(); }, kCommitNudgeMs, 0);
}

void ShardGroups::Impl::Nudge() {
  nudge_armed = false;
  std::map<int32_t, uint64_t> due;
  due.swap(to_nudge);
  const auto now = std::chrono::steady_clock::now();
  for (const auto& [shard, last_index] : due) {
    auto found = groups.find(shard);
    if (found == groups.end()) continue;
    Group* g = found->second.get();
    raft* r = &g->r;
    // An entry appended since carried the commit index already; a barrier in flight will.
    if (g->closing || g->nudge_pending || g->barrier_pending || raft_state(r) != RAFT_LEADER ||
        raft_last_index(r) != last_index) {
      continue;
    }
    const bool read = now - g->read_index_at < kReadersStay;
    const bool watched = !read && options.followers_watch && options.followers_watch(shard);
    if (now - g->nudged_at < (read ? kReadNudgeEvery : watched ? kWatchedNudgeEvery : kNudgeEvery)) {
      to_nudge[shard] = last_index;  // later, unless an append carries it first
      continue;
    }
    g->nudge_barrier.data = g;
    if (raft_barrier(r, &g->nudge_barrier, NudgeDone) == 0) {
      g->nudge_pending = true;
      g->nudged_at = now;
      g->nudged_index = raft_last_index(r);
    }
  }
  if (!to_nudge.empty()) ArmNudge();
}

void ShardGroups::Impl::NoteLedSince(const Group* g, bool leads) {
  if (g->shard >= 0 && g->shard < kMaxShards) led_since[g->shard].store(leads ? g->ready_since : 0);
}

void ShardGroups::Impl::MarkReadable(int32_t shard, bool readable_now) {
  std::unique_lock lock(readable_mutex);
  if (readable_now) {
    readable.insert(shard);
  } else {
    readable.erase(shard);
  }
}

void ShardGroups::Impl::ReadyToRead(int32_t shard, std::shared_ptr<std::promise<Result<uint64_t>>> done) {
  auto found = groups.find(shard);
  if (found == groups.end() || found->second->closing) {
    done->set_value(Status(Code::kServiceUnavailable, NoReplica(shard)));
    return;
  }
  Group* g = found->second.get();
  if (raft_state(&g->r) != RAFT_LEADER) {
    MarkReadable(shard, false);
    done->set_value(NotLeader(g));
    return;
  }
  if (g->transferring) {
    g->after_transfer.push_back([this, shard, done] { ReadyToRead(shard, done); });
    return;
  }
  AfterBarrier(g, [this, g, done](int status) {
    if (status != 0) {
      done->set_value(ProposalFailed(status));
      return;
    }
    const bool leads = raft_state(&g->r) == RAFT_LEADER && g->ready_term == g->r.current_term;
    MarkReadable(g->shard, leads);
    if (leads) RenewLease(g);  // a group of one voter holds it by itself
    if (leads && !LeaseHeld(g->shard)) {
      // Not sure yet that no other node leads: asked again once a majority answers (the
      // next heartbeat), or answered "not the leader" by the tick that finds it deposed.
      g->after_lease.push_back([this, shard = g->shard, done] { ReadyToRead(shard, done); });
      return;
    }
    if (leads) {
      // The last entry with rows applied here (barriers and membership changes carry none,
      // and a replica's state machine never sees them).
      {
        std::lock_guard lock(applied_mutex);
        done->set_value(applied[g->shard]);
      }
      // The replica asking learns of the commit with the next message: sent soon, unless
      // the last entry is a barrier that told it already (an idle shard).
      g->read_index_at = std::chrono::steady_clock::now();
      if (raft_last_index(&g->r) != g->nudged_index) {
        to_nudge[g->shard] = raft_last_index(&g->r);
        ArmNudge();
      }
    } else {
      done->set_value(NotLeader(g));
    }
  });
}

Result<uint64_t> ShardGroups::ReadIndex(int32_t shard, std::chrono::milliseconds timeout) {
  Impl* p = impl_.get();
  auto done = std::make_shared<std::promise<Result<uint64_t>>>();
  std::future<Result<uint64_t>> answer = done->get_future();
  if (!p->Post([p, shard, done] { p->ReadyToRead(shard, done); })) {
    return Status(Code::kServiceUnavailable, "the node is shutting down");
  }
  if (answer.wait_for(timeout) != std::future_status::ready) {
    return Status(Code::kServiceUnavailable, "shard " + std::to_string(shard) + " found no leader within " +
                                                 std::to_string(timeout.count()) + " ms: retry");
  }
  return answer.get();
}

Status ShardGroups::ReadAtLeader(int32_t shard, std::chrono::milliseconds timeout) {
  {
    std::shared_lock lock(impl_->readable_mutex);
    if (impl_->readable.count(shard) > 0 && impl_->LeaseHeld(shard)) return Status::Ok();
  }
  return ReadIndex(shard, timeout).status();
}

uint64_t ShardGroups::LedSince(int32_t shard) const {
  return shard >= 0 && shard < Impl::kMaxShards ? impl_->led_since[shard].load() : 0;
}

Status ShardGroups::WaitApplied(int32_t shard, uint64_t index, std::chrono::milliseconds timeout) {
  Impl* p = impl_.get();
  std::unique_lock lock(p->applied_mutex);
  bool held = true;
  if (p->applied_changed.wait_for(lock, timeout, [&] {
        auto it = p->applied.find(shard);
        held = it != p->applied.end();
        return !held || it->second >= index;
      })) {
    if (!held) return {Code::kServiceUnavailable, p->NoReplica(shard)};
    return Status::Ok();
  }
  return {Code::kServiceUnavailable, "this node's replica of shard " + std::to_string(shard) + " did not catch up with its leader within " +
                                         std::to_string(timeout.count()) + " ms: retry"};
}

std::vector<GroupView> ShardGroups::Groups() const {
  std::lock_guard lock(impl_->views_mutex);
  return impl_->views;
}

std::optional<std::string> ShardGroups::LeaderNamedIn(const Status& refused) {
  if (refused.code() != Code::kServiceUnavailable) return std::nullopt;
  const std::string& message = refused.message();
  const size_t at = message.find(kLeaderIs);
  if (at == std::string::npos) return std::nullopt;
  const size_t from = at + std::strlen(kLeaderIs);
  const size_t to = message.find('\'', from);
  if (to == std::string::npos || to == from) return std::nullopt;
  return message.substr(from, to - from);
}

uint64_t ShardGroups::RaftId(const std::string& node_id) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : node_id) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  h &= 0x7fffffffffffffffULL;
  return h == 0 ? 1 : h;
}

}  // namespace kalam::cluster
