#include "storage/memory_store.h"

#include <atomic>
#include <utility>

#include "base/md5.h"
#include "storage/list_emulation.h"
#include "storage/object_key.h"

namespace freshet {
namespace {

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}

// Named stores; guarded by RegistryMutex(). Leaked on purpose: handles may
// outlive static destruction order in test binaries.
std::map<std::string, std::shared_ptr<void>>& Registry() {
  static auto* registry = new std::map<std::string, std::shared_ptr<void>>();
  return *registry;
}

std::string AnonymousName() {
  static std::atomic<uint64_t> next{0};
  return "anonymous-" + std::to_string(next.fetch_add(1) + 1);
}

}  // namespace

MemoryStore::MemoryStore() : state_(std::make_shared<State>()) { state_->name = AnonymousName(); }

std::unique_ptr<MemoryStore> MemoryStore::OpenNamed(const std::string& name) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  std::shared_ptr<void>& slot = Registry()[name];
  if (!slot) {
    auto state = std::make_shared<State>();
    state->name = name;
    slot = state;
  }
  return std::unique_ptr<MemoryStore>(new MemoryStore(std::static_pointer_cast<State>(slot)));
}

void MemoryStore::DropNamed(const std::string& name) {
  std::lock_guard<std::mutex> lock(RegistryMutex());
  Registry().erase(name);
}

void MemoryStore::List(ListRequest req, StoreCallback<ListPage> done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->counts.list;
  }
  done(DoList(req));
}

void MemoryStore::Get(GetRequest req, StoreCallback<GetResult> done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->counts.get;
  }
  done(DoGet(req));
}

void MemoryStore::Head(std::string key, StoreCallback<ObjectInfo> done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->counts.head;
  }
  done(DoHead(key));
}

void MemoryStore::Put(PutRequest req, StoreCallback<ObjectInfo> done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->counts.put;
  }
  done(DoPut(std::move(req)));
}

void MemoryStore::Delete(std::string key, StoreCallback<Unit> done) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    ++state_->counts.del;
  }
  Status st = DoDelete(key);
  if (st.ok()) {
    done(Unit{});
  } else {
    done(std::move(st));
  }
}

std::string MemoryStore::Describe() const { return "mem://" + state_->name; }

MemoryStore::CallCounts MemoryStore::call_counts() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->counts;
}

void MemoryStore::ResetCallCounts() {
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->counts = CallCounts{};
}

std::vector<std::string> MemoryStore::Keys() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::vector<std::string> keys;
  keys.reserve(state_->objects.size());
  for (const auto& [key, obj] : state_->objects) keys.push_back(key);
  return keys;
}

Result<ListPage> MemoryStore::DoList(const ListRequest& req) const {
  FRESHET_ASSIGN_OR_RETURN(ListPager pager, ListPager::Create(req));
  std::optional<std::string> first = pager.FirstCandidate();
  if (!first) return std::move(pager).Finish();
  std::lock_guard<std::mutex> lock(state_->mu);
  const auto& objects = state_->objects;
  auto it = objects.lower_bound(*first);
  while (it != objects.end()) {
    ListPager::Verdict verdict = pager.Offer(it->first);
    if (verdict == ListPager::Verdict::kStop) break;
    if (verdict == ListPager::Verdict::kTake) {
      pager.Take(ObjectInfo{it->first, it->second.body.size(), it->second.etag});
      ++it;
      continue;
    }
    // Skip a rolled-up common prefix in one seek rather than key by key.
    const std::string& cp = pager.common_prefix();
    if (!cp.empty() && it->first.starts_with(cp)) {
      std::optional<std::string> next = PrefixSuccessor(cp);
      if (!next) break;
      it = objects.lower_bound(*next);
    } else {
      ++it;
    }
  }
  return std::move(pager).Finish();
}

Result<GetResult> MemoryStore::DoGet(const GetRequest& req) const {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(req.key));
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->objects.find(req.key);
  if (it == state_->objects.end()) return Status::NotFound("no object '" + req.key + "' in " + Describe());
  const std::string& body = it->second.body;
  GetResult out;
  out.info = ObjectInfo{req.key, body.size(), it->second.etag};
  if (!req.range) {
    out.body = body;
  } else if (req.range->offset < body.size()) {
    out.body = body.substr(req.range->offset, req.range->length);
  }
  return out;
}

Result<ObjectInfo> MemoryStore::DoHead(const std::string& key) const {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(state_->mu);
  auto it = state_->objects.find(key);
  if (it == state_->objects.end()) return Status::NotFound("no object '" + key + "' in " + Describe());
  return ObjectInfo{key, it->second.body.size(), it->second.etag};
}

Result<ObjectInfo> MemoryStore::DoPut(PutRequest req) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(req.key));
  if (req.body_file) {
    FRESHET_ASSIGN_OR_RETURN(req.body, req.body_file->ReadAll());
  }
  // Hash outside the lock: bodies may be large.
  Object obj{std::move(req.body), ""};
  obj.etag = Md5Hex(obj.body);
  ObjectInfo info{req.key, obj.body.size(), obj.etag};
  std::lock_guard<std::mutex> lock(state_->mu);
  auto [it, inserted] = state_->objects.try_emplace(req.key);
  if (!inserted && req.if_none_match) {
    return Status::AlreadyExists("object '" + req.key + "' already exists in " + Describe());
  }
  if (req.if_match && (inserted || it->second.etag != *req.if_match)) {
    std::string now = inserted ? "is absent" : "has ETag " + it->second.etag;
    if (inserted) state_->objects.erase(it);
    return Status::FailedPrecondition("object '" + req.key + "' in " + Describe() + " " + now + ", not " +
                                      *req.if_match + " (If-Match)");
  }
  it->second = std::move(obj);
  return info;
}

Status MemoryStore::DoDelete(const std::string& key) {
  FRESHET_RETURN_IF_ERROR(ValidateObjectKey(key));
  std::lock_guard<std::mutex> lock(state_->mu);
  state_->objects.erase(key);
  return Status::Ok();
}

}  // namespace freshet
