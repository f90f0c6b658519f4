#include "storage/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "storage/blocking_store.h"
#include "testing/temp_dir.h"

namespace freshet {
namespace {

namespace fs = std::filesystem;

class LocalStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<LocalStore> Open(LocalStore::Options options = {}) {
    Result<std::unique_ptr<LocalStore>> store = LocalStore::Open(dir_.path(), options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Writes a file behind the store's back, as another process would.
  void WriteFile(const std::string& rel, const std::string& body) {
    fs::create_directories(fs::path(dir_.Join(rel)).parent_path());
    std::ofstream(dir_.Join(rel), std::ios::binary | std::ios::trunc) << body;
  }

  std::vector<std::string> AllPathsUnderRoot() {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_.path())) {
      out.push_back(fs::relative(e.path(), dir_.path()).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_{"local-store"};
};

TEST_F(LocalStoreTest, KeysAreFilesUnderTheRoot) {
  auto store = Open();
  ASSERT_TRUE(PutSync(*store, "a/b/c.txt", "content").ok());
  std::ifstream in(dir_.Join("a/b/c.txt"), std::ios::binary);
  std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(body, "content");
  EXPECT_EQ(store->Describe(), "local://" + fs::canonical(dir_.path()).string());
  EXPECT_EQ(store->root(), fs::canonical(dir_.path()).string());
}

TEST_F(LocalStoreTest, OpenErrors) {
  EXPECT_EQ(LocalStore::Open(dir_.Join("missing")).status().code(), StatusCode::kNotFound);
  WriteFile("file", "x");
  EXPECT_EQ(LocalStore::Open(dir_.Join("file")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(LocalStore::Open("").status().code(), StatusCode::kInvalidArgument);
  LocalStore::Options options;
  options.create_if_missing = true;
  Result<std::unique_ptr<LocalStore>> created = LocalStore::Open(dir_.Join("new/deep/root"), options);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_TRUE(fs::is_directory(dir_.Join("new/deep/root")));
}

TEST_F(LocalStoreTest, NoTempFilesLeftAndEmptyParentsRemoved) {
  auto store = Open();
  ASSERT_TRUE(PutSync(*store, "x/y/z", "1").ok());
  ASSERT_TRUE(PutSync(*store, "x/y/z", "2").ok());
  ASSERT_TRUE(PutSync(*store, "x/w", "3", true).ok());
  EXPECT_EQ(PutSync(*store, "x/w", "4", true).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(AllPathsUnderRoot(), (std::vector<std::string>{"x", "x/w", "x/y", "x/y/z"}));

  ASSERT_TRUE(DeleteSync(*store, "x/y/z").ok());
  EXPECT_EQ(AllPathsUnderRoot(), (std::vector<std::string>{"x", "x/w"}));
  ASSERT_TRUE(DeleteSync(*store, "x/w").ok());
  EXPECT_TRUE(AllPathsUnderRoot().empty());
  EXPECT_TRUE(fs::is_directory(dir_.path()));  // the root stays
}

TEST_F(LocalStoreTest, LeftoversAreNotListed) {
  auto store = Open();
  ASSERT_TRUE(PutSync(*store, "p/real", "r").ok());
  // What a crash mid-put leaves behind, plus empty directories and a
  // non-regular file.
  WriteFile(".freshet-tmp-123-0", "partial");
  WriteFile("p/.freshet-tmp-9-9", "partial");
  fs::create_directories(dir_.Join("empty/deeper"));
  fs::create_directories(dir_.Join("p/q"));
  ASSERT_EQ(::mkfifo(dir_.Join("p/fifo").c_str(), 0600), 0);
  Result<std::vector<ObjectInfo>> all = ListAllSync(*store, "");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].key, "p/real");
  ListRequest req;
  req.delimiter = "/";
  Result<ListPage> page = ListPageSync(*store, req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, (std::vector<std::string>{"p/"}));
  EXPECT_EQ(HeadSync(*store, "p/fifo").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(GetSync(*store, "p/fifo").status().code(), StatusCode::kNotFound);  // and does not hang
}

TEST_F(LocalStoreTest, AbandonedTempFilesAreRemovedAndLocksKept) {
  auto store = Open();
  ASSERT_TRUE(PutSync(*store, "p/real", "r").ok());
  WriteFile(".freshet-tmp-123-0", "partial");
  WriteFile("p/q/.freshet-tmp-9-9", "partial");
  WriteFile(".freshet-tmp-lock-CURRENT", "");
  WriteFile("p/.freshet-tmpish", "not ours: does not start with the reserved prefix");
  Result<uint64_t> removed = store->RemoveAbandonedWrites();
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 2u);
  std::vector<std::string> paths = AllPathsUnderRoot();
  EXPECT_EQ(std::count(paths.begin(), paths.end(), ".freshet-tmp-123-0"), 0);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), "p/q/.freshet-tmp-9-9"), 0);
  EXPECT_EQ(std::count(paths.begin(), paths.end(), ".freshet-tmp-lock-CURRENT"), 1) << "lock files stay";
  EXPECT_EQ(std::count(paths.begin(), paths.end(), "p/real"), 1);
  EXPECT_EQ(*store->RemoveAbandonedWrites(), 0u);
}

TEST_F(LocalStoreTest, KeyConflictsWithDirectories) {
  auto store = Open();
  ASSERT_TRUE(PutSync(*store, "a", "file").ok());
  Result<ObjectInfo> r = PutSync(*store, "a/b", "under a file");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition) << r.status().ToString();
  EXPECT_NE(r.status().message().find("'a/b'"), std::string::npos);
  ASSERT_TRUE(PutSync(*store, "c/d", "x").ok());
  EXPECT_EQ(PutSync(*store, "c", "over a directory").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(PutSync(*store, "c", "over a directory", true).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(GetSync(*store, "a")->body, "file");
  EXPECT_EQ(GetSync(*store, "c/d")->body, "x");
  EXPECT_EQ(AllPathsUnderRoot(), (std::vector<std::string>{"a", "c", "c/d"}));  // no temp files left
}

// Readers racing a writer that keeps replacing the object see one whole
// version or the other, never a mix or a partial file.
TEST_F(LocalStoreTest, ReplaceIsAtomic) {
  LocalStore::Options options;
  options.sync = false;  // atomicity does not depend on fsync
  auto store = Open(options);
  const std::string a(256 << 10, 'a'), b(300 << 10, 'b');
  ASSERT_TRUE(PutSync(*store, "hot", a).ok());
  std::map<std::string, bool> etag_is_a;  // every version's ETag names one body
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 60; ++i) EXPECT_TRUE(PutSync(*store, "hot", i % 2 ? a : b).ok());
    stop = true;
  });
  int reads = 0;
  while (!stop.load() || reads < 10) {
    Result<GetResult> get = GetSync(*store, "hot");
    ASSERT_TRUE(get.ok()) << get.status().ToString();
    bool is_a = get->body == a, is_b = get->body == b;
    ASSERT_TRUE(is_a || is_b) << "torn read of " << get->body.size() << " bytes";
    auto [it, fresh] = etag_is_a.emplace(get->info.etag, is_a);
    EXPECT_EQ(it->second, is_a) << "ETag " << get->info.etag << " read with both bodies";
    EXPECT_EQ(get->info.size, get->body.size());
    ++reads;
  }
  writer.join();
  EXPECT_EQ(AllPathsUnderRoot(), (std::vector<std::string>{"hot"}));
}

// Many operations in flight at once on different and shared keys, with
// deletes pruning directories that puts are creating.
TEST_F(LocalStoreTest, ParallelPutsGetsAndDeletes) {
  auto store = Open();
  constexpr int kThreads = 8, kOps = 30;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::vector<std::string> errors;  // guarded by mu
  auto check = [&](bool ok, const std::string& what, const Status& st) {
    if (ok) return;
    std::lock_guard<std::mutex> lock(mu);
    errors.push_back(what + ": " + st.ToString());
  };
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kOps; ++i) {
        std::string shared = "shared/dir" + std::to_string(i % 3) + "/k";
        std::string own = "own/" + std::to_string(t) + "/" + std::to_string(i);
        std::string body = std::to_string(t) + ":" + std::to_string(i);
        Result<ObjectInfo> put = PutSync(*store, shared, body);
        check(put.ok(), "put " + shared, put.status());
        put = PutSync(*store, own, body);
        check(put.ok(), "put " + own, put.status());
        Result<GetResult> got = GetSync(*store, own);
        check(got.ok() && got->body == body, "get " + own, got.status());
        check(!got.ok() || !put.ok() || got->info.etag == put->etag, "etag of " + own, got.status());
        Result<GetResult> s = GetSync(*store, shared);
        check(s.ok() || s.status().code() == StatusCode::kNotFound, "get " + shared, s.status());
        check(!s.ok() || s->info.size == s->body.size(), "size of " + shared, s.status());
        if (i % 4 == 3) {
          Status del = DeleteSync(*store, shared);
          check(del.ok(), "delete " + shared, del);
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors.front();
  Result<std::vector<ObjectInfo>> own = ListAllSync(*store, "own/");
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(own->size(), size_t{kThreads * kOps});
  for (const std::string& p : AllPathsUnderRoot()) EXPECT_EQ(p.find(".freshet-tmp-"), std::string::npos) << p;
}

// A full queue refuses at once with kUnavailable, inline; the store never
// blocks its caller.
TEST_F(LocalStoreTest, FullQueueRefusesWithUnavailable) {
  LocalStore::Options options;
  options.io_threads = 1;
  options.queue_limit = 1;
  auto store = Open(options);
  std::promise<void> gate, holding;
  std::shared_future<void> gate_f = gate.get_future().share();
  // A callback runs on the store's only I/O thread; holding it there keeps
  // the queue from draining.
  store->Head("k", [&, gate_f](Result<ObjectInfo>) {
    holding.set_value();
    gate_f.wait();
  });
  holding.get_future().wait();
  std::promise<Status> queued;
  store->Head("k", [&](Result<ObjectInfo> r) { queued.set_value(r.status()); });  // fills the queue
  bool refused_inline = false;
  store->Put(PutRequest{"k", "v", false}, [&](Result<ObjectInfo> r) {
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_TRUE(r.status().retryable());
    refused_inline = true;
  });
  EXPECT_TRUE(refused_inline);
  gate.set_value();
  EXPECT_EQ(queued.get_future().get().code(), StatusCode::kNotFound);
}

// ETags are validators read from one stat (no file is read to list it):
// the same across listings, Get, Head and a reopened store (a restart);
// new when the file changes, by this store or behind its back.
TEST_F(LocalStoreTest, EtagsAreValidatorsThatFollowTheFile) {
  auto store = Open();
  for (int i = 0; i < 20; ++i) WriteFile("ext/f" + std::to_string(i), "external " + std::to_string(i));
  Result<std::vector<ObjectInfo>> first = ListAllSync(*store, "");
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 20u);
  std::set<std::string> distinct;
  for (const ObjectInfo& o : *first) distinct.insert(o.etag);
  EXPECT_EQ(distinct.size(), 20u);
  Result<std::vector<ObjectInfo>> second = ListAllSync(*store, "");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, *first);
  Result<ObjectInfo> head = HeadSync(*store, "ext/f3");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->etag, (*first)[13].etag);  // "ext/f3" sorts after f0, f1, f10..f19, f2
  Result<GetResult> got = GetSync(*store, GetRequest{"ext/f3", ByteRange{1, 2}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->info.etag, head->etag);
  {
    auto reopened = Open();
    Result<std::vector<ObjectInfo>> again = ListAllSync(*reopened, "");
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *first);
  }

  // Changed behind the store's back, in place, with the same size (a
  // distinct mtime, as any later write has): a new ETag.
  WriteFile("ext/f3", "EXTERNAL 3");
  struct timespec times[2] = {{0, UTIME_OMIT}, {1234567890, 42}};
  ASSERT_EQ(::utimensat(AT_FDCWD, dir_.Join("ext/f3").c_str(), times, 0), 0);
  Result<ObjectInfo> changed = HeadSync(*store, "ext/f3");
  ASSERT_TRUE(changed.ok());
  EXPECT_NE(changed->etag, head->etag);

  // The store's own Put of the very same content: a new ETag too (a new
  // file), and what Put returned is what Get, Head and List report.
  Result<ObjectInfo> put = PutSync(*store, "ext/f3", "EXTERNAL 3");
  ASSERT_TRUE(put.ok());
  EXPECT_NE(put->etag, changed->etag);
  EXPECT_EQ(HeadSync(*store, "ext/f3")->etag, put->etag);
  EXPECT_EQ(GetSync(*store, "ext/f3")->info.etag, put->etag);
  EXPECT_EQ((*ListAllSync(*store, "ext/f3"))[0].etag, put->etag);
}

// Resuming a listing near the end of a big tree opens only the directories
// on the way there, and a full page stops the walk.
TEST_F(LocalStoreTest, ListPrunesDirectories) {
  for (int d = 0; d < 40; ++d) {
    char dir[8];
    std::snprintf(dir, sizeof dir, "d%02d", d);
    for (int f = 0; f < 10; ++f) WriteFile(std::string(dir) + "/f" + std::to_string(f), "x");
  }
  auto store = Open();
  auto dirs_opened_by = [&](ListRequest req, size_t want_entries) {
    uint64_t before = store->stats().dirs_opened;
    Result<ListPage> page = ListPageSync(*store, std::move(req));
    EXPECT_TRUE(page.ok());
    EXPECT_EQ(page->objects.size() + page->common_prefixes.size(), want_entries);
    return store->stats().dirs_opened - before;
  };
  ListRequest req;
  req.start_after = "d38/f5";
  req.max_keys = 3;
  EXPECT_EQ(dirs_opened_by(req, 3), 2u);  // root, d38
  req.max_keys = 10;
  EXPECT_EQ(dirs_opened_by(req, 10), 3u);  // root, d38, d39
  req = ListRequest{};
  req.prefix = "d2";
  EXPECT_EQ(dirs_opened_by(req, 100), 11u);  // root, d20..d29
  req.prefix = "d25/f";
  EXPECT_EQ(dirs_opened_by(req, 10), 2u);
  req = ListRequest{};
  req.max_keys = 5;
  EXPECT_EQ(dirs_opened_by(req, 5), 2u);  // root, d00: the page is full
  req.delimiter = "/";
  req.max_keys = 1000;
  EXPECT_EQ(dirs_opened_by(req, 40), 41u);  // each directory once, to see it is non-empty
  // A continuation token resumes after a rolled-up prefix without reopening it.
  req.max_keys = 20;
  Result<ListPage> page = ListPageSync(*store, req);
  ASSERT_TRUE(page.ok());
  req.continuation_token = page->next_continuation_token;
  EXPECT_EQ(dirs_opened_by(req, 20), 21u);  // root, d20..d39
}

TEST_F(LocalStoreTest, DestructorCompletesPendingCalls) {
  std::atomic<int> done{0};
  {
    auto store = Open();
    for (int i = 0; i < 50; ++i) {
      store->Put(PutRequest{"p/" + std::to_string(i), "x", false}, [&](Result<ObjectInfo> r) {
        EXPECT_TRUE(r.ok());
        done++;
      });
    }
  }
  EXPECT_EQ(done.load(), 50);
}

TEST_F(LocalStoreTest, SymlinkedDirectoriesAreFollowed) {
  WriteFile("real/a", "1");
  fs::create_directory_symlink(dir_.Join("real"), dir_.Join("link"));
  auto store = Open();
  Result<std::vector<ObjectInfo>> all = ListAllSync(*store, "");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].key, "link/a");
  EXPECT_EQ((*all)[1].key, "real/a");
  EXPECT_EQ(GetSync(*store, "link/a")->body, "1");
}

}  // namespace
}  // namespace freshet
