// DockerEngine against the real shared test dockerd (scripts/test-dockerd.sh; the ctest fixture
// docker_env sets OUTPOST_TEST_DOCKER_HOST). The containers run a tiny image the test imports
// itself through the Engine API: the host's sh, sleep and tail with their shared libraries,
// tagged by a hash of that content. Everything the test makes carries the label
// outpost.test=engine and is removed by the test (containers as each case ends, the image and
// any stragglers when the suite ends).
//
// The tcp:// + TLS path is proven against HAProxy terminating TLS with `verify required` in
// front of the same daemon's unix socket, with a CA and certificates made here by openssl.
#include "runner/docker/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/crypto.h"
#include "common/files.h"
#include "common/json_util.h"
#include "net/http_transport.h"
#include "net/test_tls.h"
#include "testing/status_matchers.h"
#include "testing/temp_dir.h"

namespace outpost::docker {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using outpost::testing::IsOk;
using outpost::testing::StatusIs;
using outpost::testing::TempDir;
using ::testing::HasSubstr;

constexpr const char* kHostVar = "OUTPOST_TEST_DOCKER_HOST";
constexpr const char* kImageRepo = "outpost-engine-test";

EngineEndpoint At(const std::string& host) {
  EngineEndpoint e;
  e.host = host;
  return e;
}

std::string DockerHost() {
  const char* host = std::getenv(kHostVar);
  return host ? host : "";
}

// One raw Engine API exchange over the test daemon's unix socket (what DockerEngine does not
// offer: importing and removing the test image, the whole inspect document).
Result<net::HttpResponse> Raw(const std::string& method, const std::string& path,
                              std::string body = "", const std::string& content_type = "") {
  net::HttpRequest r;
  r.method = method;
  r.url.scheme = "http";
  r.url.host = "docker";
  r.url.port = 80;
  r.url.path = "/v1.41" + path;
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  r.body = std::move(body);
  net::TransportOptions options;
  options.unix_socket = DockerHost().substr(std::string("unix://").size());
  options.timeout = std::chrono::seconds(120);
  return net::SendHttp(r, options);
}

// Runs `command` in sh; its standard output. A failure is an exception naming the command.
std::string Shell(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(command.c_str(), "r"), ::pclose);
  if (!p) throw std::runtime_error("popen failed: " + command);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p.get())) > 0;) out.append(buf, n);
  if (::pclose(p.release()) != 0) throw std::runtime_error("failed: " + command);
  return out;
}

// Copies `from` (symlinks followed) to rootfs + `to`, executable.
void CopyInto(const std::string& rootfs, const std::string& from, const std::string& to) {
  fs::create_directories(fs::path(rootfs + to).parent_path());
  fs::copy_file(fs::canonical(from), rootfs + to, fs::copy_options::overwrite_existing);
  fs::permissions(rootfs + to, fs::perms(0755));
}

// The test image: /bin/{sh,sleep,tail} of the host and their ldd closure. Its tag is a hash of
// the tar (made reproducible), so an unchanged host imports nothing new.
Result<std::string> ImportTestImage() {
  for (const char* tool : {"tar", "ldd"}) {
    if (std::system(("command -v " + std::string(tool) + " >/dev/null").c_str()) != 0) {
      return FailedPrecondition(std::string(tool) +
                                " is missing: the test builds its image with it");
    }
  }
  TempDir dir("outpost-engine-image");
  const std::string rootfs = dir.Join("rootfs");
  std::set<std::string> libs;
  for (const std::string bin : {"sh", "sleep", "tail"}) {
    CopyInto(rootfs, "/bin/" + bin, "/bin/" + bin);
    std::istringstream ldd(Shell("ldd /bin/" + bin));
    for (std::string line; std::getline(ldd, line);) {
      auto slash = line.find('/');
      if (slash == std::string::npos) continue;  // linux-vdso
      libs.insert(line.substr(slash, line.find(' ', slash) - slash));
    }
  }
  for (const auto& lib : libs) CopyInto(rootfs, lib, lib);
  fs::create_directories(rootfs + "/tmp");
  const std::string tar = dir.Join("rootfs.tar");
  Shell("tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C '" + rootfs + "' -cf '" +
        tar + "' .");
  OUTPOST_ASSIGN_OR_RETURN(std::string content, ReadFile(tar));
  const std::string image = std::string(kImageRepo) + ":" + Sha256Hex(content).substr(0, 16);
  DockerEngine engine(At(DockerHost()));
  if (engine.InspectImage(image).ok()) return image;
  OUTPOST_ASSIGN_OR_RETURN(auto r, Raw("POST",
                                       "/images/create?fromSrc=-&repo=" + std::string(kImageRepo) +
                                           "&tag=" + image.substr(image.find(':') + 1) +
                                           "&changes=LABEL%20outpost.test%3Dengine",
                                       content, "application/x-tar"));
  if (r.status != 200 || r.body.find("\"error") != std::string::npos) {
    return Internal("importing " + image + ": HTTP " + std::to_string(r.status) + " " + r.body);
  }
  OUTPOST_RETURN_IF_ERROR(engine.InspectImage(image));
  return image;
}

// Removes every container labelled outpost.test=engine (any case) and the test image.
void RemoveEverythingOfTheTest(const std::string& image) {
  DockerEngine engine(At(DockerHost()));
  if (auto rows = engine.ListContainers({"outpost.test=engine"}); rows.ok()) {
    for (const auto& c : *rows) EXPECT_THAT(engine.RemoveContainer(c.id, true), IsOk());
  }
  if (!image.empty()) {
    auto r = Raw("DELETE", "/images/" + image + "?force=1");
    EXPECT_TRUE(r.ok() && r->status == 200) << image;
  }
}

class DockerEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (DockerHost().empty()) return;
    try {
      auto image = ImportTestImage();
      import_status_ = new Status(image.status());
      if (image.ok()) image_ = new std::string(*image);
    } catch (const std::exception& e) {
      import_status_ = new Status(Internal(std::string("building the test image: ") + e.what()));
    }
  }
  static void TearDownTestSuite() {
    if (!DockerHost().empty()) RemoveEverythingOfTheTest(image_ ? *image_ : "");
    delete image_;
    delete import_status_;
    image_ = nullptr;
    import_status_ = nullptr;
  }

  void SetUp() override {
    ASSERT_FALSE(DockerHost().empty())
        << kHostVar
        << " is not set: run under ctest (fixture docker_env) or set it to the test dockerd "
           "(scripts/test-dockerd.sh start prints it)";
    ASSERT_NE(import_status_, nullptr);
    ASSERT_THAT(*import_status_, IsOk());
    auto endpoint = EngineEndpoint::Resolve(DockerHost(), {});
    ASSERT_THAT(endpoint, IsOk());
    engine_ = std::make_unique<DockerEngine>(*endpoint);
    auto suffix = RandomHex(4);
    ASSERT_THAT(suffix, IsOk());
    case_ = *suffix;
  }
  void TearDown() override {
    if (!engine_) return;
    auto rows = engine_->ListContainers({"outpost.test.case=" + case_});
    ASSERT_THAT(rows, IsOk());
    for (const auto& c : *rows) EXPECT_THAT(engine_->RemoveContainer(c.id, true), IsOk());
  }

  // A container of the test image running `cmd`, labelled for this case.
  ContainerSpec Spec(const std::vector<std::string>& cmd, const std::string& name = "") const {
    ContainerSpec s;
    s.name = name.empty() ? "outpost-engine-test-" + case_ : name;
    s.image = *image_;
    s.cmd = cmd;
    s.labels = {{"outpost.test", "engine"}, {"outpost.test.case", case_}};
    return s;
  }

  Result<json::object> InspectDocument(const std::string& id) const {
    OUTPOST_ASSIGN_OR_RETURN(auto r, Raw("GET", "/containers/" + id + "/json"));
    OUTPOST_ASSIGN_OR_RETURN(json::value doc, ParseJson(r.body, 64));
    return doc.as_object();
  }

  static inline Status* import_status_ = nullptr;
  static inline std::string* image_ = nullptr;
  std::unique_ptr<DockerEngine> engine_;
  std::string case_;
};

TEST_F(DockerEngineTest, PingAndInfo) {
  EXPECT_THAT(engine_->Ping(), IsOk());
  auto info = engine_->Info();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->os, "linux");
  EXPECT_FALSE(info->version.empty());
  EXPECT_GE(info->api_version, std::string(kApiVersion));  // "1.41" <= the daemon's newest
  EXPECT_EQ(info->storage_driver, "overlay2");             // scripts/test-dockerd.sh
  EXPECT_THAT(info->cgroup_version, ::testing::AnyOf("1", "2"));
  EXPECT_THAT(engine_->InspectImage(*image_), IsOk());
}

TEST_F(DockerEngineTest, ConcurrentCallsEachGetTheirAnswer) {
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const bool real = (t + i) % 2 == 0;
        Status s = engine_->InspectImage(real ? *image_ : *image_ + "-none");
        if (real ? s.ok() : s.code() == Code::kNotFound) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
}

TEST_F(DockerEngineTest, CreateStartInspectListKillWaitRemove) {
  auto id = engine_->CreateContainer(Spec({"/bin/sleep", "600"}));
  ASSERT_THAT(id, IsOk());
  auto created = engine_->InspectContainer(*id);
  ASSERT_THAT(created, IsOk());
  EXPECT_EQ(created->id, *id);
  EXPECT_EQ(created->name, "outpost-engine-test-" + case_);
  EXPECT_EQ(created->image, *image_);
  EXPECT_EQ(created->status, "created");
  EXPECT_FALSE(created->running);
  EXPECT_FALSE(created->started_at.has_value());
  EXPECT_EQ(created->labels.at("outpost.test.case"), case_);

  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  EXPECT_THAT(engine_->StartContainer(*id), IsOk());  // already running: Ok
  auto running = engine_->InspectContainer(*id);
  ASSERT_THAT(running, IsOk());
  EXPECT_EQ(running->status, "running");
  EXPECT_TRUE(running->running);
  EXPECT_GT(running->pid, 0);
  EXPECT_TRUE(running->started_at.has_value());

  auto listed = engine_->ListContainers({"outpost.test=engine", "outpost.test.case=" + case_});
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, *id);
  EXPECT_THAT((*listed)[0].names, ::testing::ElementsAre("/outpost-engine-test-" + case_));
  EXPECT_EQ((*listed)[0].state, "running");
  EXPECT_EQ((*listed)[0].labels.at("outpost.test"), "engine");
  auto other = engine_->ListContainers({"outpost.test.case=" + case_ + "-other"});
  ASSERT_THAT(other, IsOk());
  EXPECT_TRUE(other->empty());

  ASSERT_THAT(engine_->KillContainer(*id, "SIGKILL"), IsOk());
  auto code = engine_->WaitContainer(*id, std::chrono::seconds(30));
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, 137);
  auto exited = engine_->InspectContainer(*id);
  ASSERT_THAT(exited, IsOk());
  EXPECT_EQ(exited->status, "exited");
  EXPECT_FALSE(exited->running);
  EXPECT_EQ(exited->exit_code, 137);
  EXPECT_FALSE(exited->oom_killed);
  EXPECT_EQ(exited->pid, 0);
  EXPECT_TRUE(exited->finished_at.has_value());

  EXPECT_THAT(engine_->KillContainer(*id, "SIGKILL"),
              StatusIs(Code::kConflict, HasSubstr("is not running")));
  EXPECT_THAT(engine_->StopContainer(*id, 1), IsOk());  // not running: Ok
  ASSERT_THAT(engine_->RemoveContainer(*id, false), IsOk());
  EXPECT_THAT(engine_->InspectContainer(*id), StatusIs(Code::kNotFound, HasSubstr(*id)));
  EXPECT_THAT(engine_->RemoveContainer(*id, false), IsOk());  // already gone
  auto gone = engine_->ListContainers({"outpost.test.case=" + case_});
  ASSERT_THAT(gone, IsOk());
  EXPECT_TRUE(gone->empty());
}

TEST_F(DockerEngineTest, StopSendsTermThenKillsAfterTheGrace) {
  // sleep as pid 1 has no TERM handler: the kernel ignores TERM for it, so only the KILL ends it.
  auto id = engine_->CreateContainer(Spec({"/bin/sleep", "600"}));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  ASSERT_THAT(engine_->StopContainer(*id, 1), IsOk());
  auto state = engine_->InspectContainer(*id);
  ASSERT_THAT(state, IsOk());
  EXPECT_FALSE(state->running);
  EXPECT_EQ(state->exit_code, 137);
}

TEST_F(DockerEngineTest, RemovingARunningContainerNeedsForce) {
  auto id = engine_->CreateContainer(Spec({"/bin/sleep", "600"}));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  EXPECT_THAT(engine_->RemoveContainer(*id, false),
              StatusIs(Code::kConflict, HasSubstr("docker remove " + *id)));
  ASSERT_THAT(engine_->RemoveContainer(*id, true), IsOk());
  EXPECT_THAT(engine_->InspectContainer(*id), StatusIs(Code::kNotFound));
}

TEST_F(DockerEngineTest, TheExitCodeIsReported) {
  auto id = engine_->CreateContainer(Spec({"/bin/sh", "-c", "exit 7"}));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  auto code = engine_->WaitContainer(*id, std::chrono::seconds(30));
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, 7);
  auto state = engine_->InspectContainer(*id);
  ASSERT_THAT(state, IsOk());
  EXPECT_EQ(state->exit_code, 7);
  EXPECT_EQ(state->status, "exited");
}

TEST_F(DockerEngineTest, WaitingOnARunningContainerEndsAtTheTimeout) {
  auto id = engine_->CreateContainer(Spec({"/bin/sleep", "600"}));
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  EXPECT_THAT(engine_->WaitContainer(*id, std::chrono::milliseconds(300)),
              StatusIs(Code::kFailedPrecondition, HasSubstr("still running")));
  auto state = engine_->InspectContainer(*id);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->running);
}

std::string Str(const json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : "<not a string: " + json::serialize(v) + ">";
}
std::optional<bool> Bool(const json::value& v) {
  return v.is_bool() ? std::optional<bool>(v.as_bool()) : std::nullopt;
}

std::vector<std::string> Strings(const json::value& v) {
  std::vector<std::string> out;
  if (v.is_array()) {
    for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  }
  return out;
}

TEST_F(DockerEngineTest, TheLimitsAndMountsLandInTheContainer) {
  TempDir data("outpost-engine-data");
  TempDir ro("outpost-engine-ro");
  ASSERT_THAT(WriteFileAtomic(ro.Join("given"), "x"), IsOk());
  // Checked from inside: the rootfs and the read-only bind refuse writes, the tmpfs and the rw
  // bind take them, no_new_privs is set; then the env reaches the process.
  const std::string script =
      "if ( : > /rootfile ) 2>/dev/null; then exit 11; fi\n"
      "if ( : > /ro/new ) 2>/dev/null; then exit 12; fi\n"
      ": > /scratch/x || exit 13\n"
      "nnp=; while read k v; do [ \"$k\" = NoNewPrivs: ] && nnp=$v; done < /proc/self/status\n"
      "[ \"$nnp\" = 1 ] || exit 14\n"
      "echo \"$FOO $(pwd)\" > /data/out\n";
  ContainerSpec spec = Spec({"/bin/sh", "-c", script});
  spec.env = {"FOO=bar"};
  spec.user = "0:0";
  spec.working_dir = "/data";
  spec.binds = {{data.path(), "/data", false}, {ro.path(), "/ro", true}};
  spec.tmpfs = {{"/scratch", "rw,size=8m,mode=1777"}};
  spec.network_mode = "none";
  spec.cap_add = {"SETUID", "SETGID", "KILL", "CHOWN"};
  spec.memory_bytes = 64 << 20;
  spec.nano_cpus = 500'000'000;
  spec.pids_limit = 64;
  auto id = engine_->CreateContainer(spec);
  ASSERT_THAT(id, IsOk());

  auto doc = InspectDocument(*id);
  ASSERT_THAT(doc, IsOk());
  const json::object& host = doc->at("HostConfig").as_object();
  EXPECT_EQ(host.at("Memory").to_number<std::int64_t>(), 64 << 20);
  EXPECT_EQ(host.at("MemorySwap").to_number<std::int64_t>(), 64 << 20);
  EXPECT_EQ(host.at("NanoCpus").to_number<std::int64_t>(), 500'000'000);
  EXPECT_EQ(host.at("PidsLimit").to_number<std::int64_t>(), 64);
  EXPECT_EQ(Bool(host.at("ReadonlyRootfs")), true);
  EXPECT_EQ(Str(host.at("NetworkMode")), "none");
  EXPECT_THAT(Strings(host.at("CapDrop")), ::testing::ElementsAre("ALL"));
  EXPECT_THAT(Strings(host.at("CapAdd")),
              ::testing::UnorderedElementsAre("SETUID", "SETGID", "KILL", "CHOWN"));
  EXPECT_THAT(Strings(host.at("SecurityOpt")), ::testing::ElementsAre("no-new-privileges"));
  EXPECT_EQ(Str(host.at("Tmpfs").at("/scratch")), "rw,size=8m,mode=1777");
  EXPECT_EQ(Bool(host.at("Init")), false);
  const json::array& mounts = host.at("Mounts").as_array();
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(Str(mounts[0].at("Type")), "bind");
  EXPECT_EQ(Str(mounts[0].at("Source")), data.path());
  EXPECT_EQ(Str(mounts[0].at("Target")), "/data");
  const json::value* rw = mounts[0].as_object().if_contains("ReadOnly");  // omitted when false
  EXPECT_TRUE(rw == nullptr || Bool(*rw) == false);
  EXPECT_EQ(Str(mounts[1].at("Source")), ro.path());
  EXPECT_EQ(Bool(mounts[1].at("ReadOnly")), true);
  const json::object& config = doc->at("Config").as_object();
  EXPECT_EQ(Str(config.at("User")), "0:0");
  EXPECT_EQ(Str(config.at("WorkingDir")), "/data");
  EXPECT_THAT(Strings(config.at("Env")), ::testing::Contains("FOO=bar"));
  EXPECT_EQ(Str(config.at("Labels").at("outpost.test")), "engine");

  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  auto code = engine_->WaitContainer(*id, std::chrono::seconds(30));
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, 0) << "11: rootfs writable, 12: ro bind writable, 13: tmpfs not writable, "
                         "14: no_new_privs not set";
  auto out = ReadFile(data.Join("out"));
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(*out, "bar /data\n");
  EXPECT_FALSE(FileExists(ro.Join("new")));
}

TEST_F(DockerEngineTest, AProcessOverTheMemoryLimitIsOomKilled) {
  ContainerSpec spec = Spec({"/bin/tail", "/dev/zero"});  // one endless line: tail keeps it all
  spec.memory_bytes = 32 << 20;
  auto id = engine_->CreateContainer(spec);
  ASSERT_THAT(id, IsOk());
  ASSERT_THAT(engine_->StartContainer(*id), IsOk());
  auto code = engine_->WaitContainer(*id, std::chrono::seconds(60));
  ASSERT_THAT(code, IsOk());
  EXPECT_EQ(*code, 137);
  auto state = engine_->InspectContainer(*id);
  ASSERT_THAT(state, IsOk());
  EXPECT_TRUE(state->oom_killed);
  EXPECT_EQ(state->exit_code, 137);
}

TEST_F(DockerEngineTest, ErrorsCarryTheEnginesMessageAndTheRightCode) {
  const std::string missing = std::string(kImageRepo) + ":no-such-tag-" + case_;
  ContainerSpec no_image = Spec({"/bin/sh"});
  no_image.image = missing;
  EXPECT_THAT(engine_->CreateContainer(no_image),
              StatusIs(Code::kNotFound, HasSubstr("No such image: " + missing)));
  EXPECT_THAT(engine_->InspectImage(missing), StatusIs(Code::kNotFound, HasSubstr(missing)));
  EXPECT_THAT(engine_->InspectContainer("outpost-engine-test-none-" + case_),
              StatusIs(Code::kNotFound, HasSubstr("No such container")));
  EXPECT_THAT(engine_->KillContainer("outpost-engine-test-none-" + case_, "SIGKILL"),
              StatusIs(Code::kNotFound));

  ASSERT_THAT(engine_->CreateContainer(Spec({"/bin/sh"})), IsOk());
  EXPECT_THAT(engine_->CreateContainer(Spec({"/bin/sh"})),
              StatusIs(Code::kConflict, HasSubstr("is already in use")));

  ContainerSpec unmounted = Spec({"/bin/sh"}, "outpost-engine-test-unmounted-" + case_);
  unmounted.binds = {{"/nonexistent/outpost-engine-test", "/x", false}};
  EXPECT_THAT(engine_->CreateContainer(unmounted),
              StatusIs(Code::kInvalidArgument,
                       HasSubstr("bind source path does not exist: /nonexistent/outpost")));

  ContainerSpec sized = Spec({"/bin/sh"}, "outpost-engine-test-sized-" + case_);
  sized.storage_bytes = 1 << 30;  // overlay2 on this machine's /var/tmp: no project quota
  EXPECT_THAT(engine_->CreateContainer(sized),
              StatusIs(Code::kInvalidArgument, HasSubstr("--storage-opt is supported only")));
}

// ---- no daemon needed ----

TEST(DockerEngine, ARefusedOrMissingSocketIsUnavailable) {
  TempDir dir("outpost-engine-sock");
  const std::string path = dir.Join("refusing.sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // never listens
  DockerEngine refusing(At("unix://" + path));
  EXPECT_THAT(refusing.Ping(), StatusIs(Code::kUnavailable, HasSubstr(path)));
  EXPECT_THAT(refusing.CreateContainer(ContainerSpec{}),
              StatusIs(Code::kUnavailable, HasSubstr("docker create")));
  ::close(fd);
  DockerEngine missing(At("unix://" + dir.Join("none.sock")));
  EXPECT_THAT(missing.Info(), StatusIs(Code::kUnavailable, HasSubstr(dir.Join("none.sock"))));
  // Retrying cannot help an endpoint the transport refuses outright.
  EngineEndpoint half{"tcp://127.0.0.1:1", true, dir.Join("ca.pem"), dir.Join("cert.pem"), ""};
  EXPECT_THAT(DockerEngine(half).Ping(),
              StatusIs(Code::kInvalidArgument, HasSubstr("both a certificate and a key")));
}

TEST(EngineEndpoint, ResolveChoosesTheHostAndTlsAsDockerClientsDo) {
  TempDir certs("outpost-engine-certs");
  for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) {
    ASSERT_THAT(WriteFileAtomic(certs.Join(f), "pem"), IsOk());
  }
  TempDir home("outpost-engine-home");
  ASSERT_THAT(MakeDirs(home.Join(".docker")), IsOk());
  for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) {
    ASSERT_THAT(WriteFileAtomic(home.Join(std::string(".docker/") + f), "pem"), IsOk());
  }
  struct Case {
    Case(std::string configured, std::map<std::string, std::string> env, std::string host,
         bool tls = false, std::string cert_dir = "", std::string error = "")
        : configured(std::move(configured)),
          env(std::move(env)),
          host(std::move(host)),
          tls(tls),
          cert_dir(std::move(cert_dir)),
          error(std::move(error)) {}
    std::string configured;
    std::map<std::string, std::string> env;
    std::string host;  // expected; "" = an error
    bool tls;
    std::string cert_dir;
    std::string error;  // a substring of the error
  };
  const std::string dir = certs.path();
  const std::vector<Case> cases = {
      {"", {}, "unix:///var/run/docker.sock"},
      {"", {{"DOCKER_HOST", "unix:///run/d.sock"}}, "unix:///run/d.sock"},
      {"unix:///cfg.sock", {{"DOCKER_HOST", "unix:///run/d.sock"}}, "unix:///cfg.sock"},
      {"", {{"DOCKER_HOST", "tcp://10.0.0.1:2375"}}, "tcp://10.0.0.1:2375"},
      {"tcp://[::1]:2376",
       {{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", dir}},
       "tcp://[::1]:2376",
       true,
       dir},
      {"tcp://d.example:2376", {{"DOCKER_CERT_PATH", dir}}, "tcp://d.example:2376", true, dir},
      {"tcp://d.example:2376",
       {{"DOCKER_TLS_VERIFY", "true"}, {"HOME", home.path()}},
       "tcp://d.example:2376",
       true,
       home.Join(".docker")},
      {"tcp://d.example:2375", {{"DOCKER_TLS_VERIFY", "0"}}, "tcp://d.example:2375"},
      // TLS settings are for tcp:// only.
      {"unix:///run/d.sock", {{"DOCKER_TLS_VERIFY", "1"}}, "unix:///run/d.sock"},
      {"",
       {{"DOCKER_HOST", "unix://run/d.sock"}},
       "",
       false,
       "",
       "DOCKER_HOST 'unix://run/d.sock'"},
      {"unix://", {}, "", false, "", "absolute path"},
      {"http://d:2375", {}, "", false, "", "[runner.docker] host 'http://d:2375'"},
      {"ssh://me@d", {}, "", false, "", "expected unix:///path/docker.sock or tcp://host:port"},
      {"tcp://d", {}, "", false, "", "no port"},
      {"tcp://:2375", {}, "", false, "", "no host"},
      {"tcp://d:99999", {}, "", false, "", "bad port"},
      {"tcp://d:23x", {}, "", false, "", "bad port"},
      {"tcp://d:2375/path", {}, "", false, "", "unexpected path"},
      {"tcp://d:2376", {{"DOCKER_TLS_VERIFY", "yes please"}}, "", false, "", "DOCKER_TLS_VERIFY"},
      {"tcp://d:2376",
       {{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", dir + "/none"}},
       "",
       false,
       "",
       dir + "/none/ca.pem is missing"},
      {"tcp://d:2376", {{"DOCKER_TLS_VERIFY", "1"}}, "", false, "", "neither DOCKER_CERT_PATH"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE("configured '" + c.configured + "'" +
                 (c.env.count("DOCKER_HOST") ? " DOCKER_HOST " + c.env.at("DOCKER_HOST") : ""));
    auto e = EngineEndpoint::Resolve(c.configured, c.env);
    if (c.host.empty()) {
      EXPECT_THAT(e, StatusIs(Code::kInvalidArgument, HasSubstr(c.error)));
      continue;
    }
    ASSERT_THAT(e, IsOk());
    EXPECT_EQ(e->host, c.host);
    EXPECT_EQ(e->tls, c.tls);
    EXPECT_EQ(e->ca_file, c.tls ? c.cert_dir + "/ca.pem" : "");
    EXPECT_EQ(e->cert_file, c.tls ? c.cert_dir + "/cert.pem" : "");
    EXPECT_EQ(e->key_file, c.tls ? c.cert_dir + "/key.pem" : "");
  }
}

// ---- tcp:// + TLS with client certificates: HAProxy in front of the test daemon ----

class DockerEngineTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(DockerHost().empty()) << kHostVar << " is not set (see DockerEngineTest)";
    const std::string haproxy = "/usr/sbin/haproxy";
    ASSERT_EQ(::access(haproxy.c_str(), X_OK), 0)
        << haproxy << " is missing (apt-get install haproxy): the TLS test needs it";
    ASSERT_THAT(net::tls_test::MakeTestCerts(dir_.path()), IsOk());
    port_ = net::tls_test::FreePort();
    const std::string config =
        "global\n"
        "  maxconn 64\n"
        "defaults\n"
        "  mode tcp\n"
        "  timeout connect 5s\n"
        "  timeout client 120s\n"
        "  timeout server 120s\n"
        "frontend docker_tls\n"
        "  bind 127.0.0.1:" +
        std::to_string(port_) + " ssl crt " + dir_.Join("server-bundle.pem") + " ca-file " +
        dir_.Join("ca.pem") +
        " verify required\n"
        "  default_backend dockerd\n"
        "backend dockerd\n"
        "  server d " +
        DockerHost().substr(std::string("unix://").size()) + "\n";
    ASSERT_THAT(WriteFileAtomic(dir_.Join("haproxy.cfg"), config), IsOk());
    haproxy_ = std::make_unique<net::tls_test::ChildDaemon>(
        std::vector<std::string>{haproxy, "-db", "-f", dir_.Join("haproxy.cfg")},
        dir_.Join("haproxy.log"));
    ASSERT_TRUE(net::tls_test::WaitForListener(port_, std::chrono::seconds(10)))
        << "haproxy did not listen; its log: " << ReadFile(dir_.Join("haproxy.log")).value();
  }

  std::string Host() const { return "tcp://127.0.0.1:" + std::to_string(port_); }

  TempDir dir_{"outpost-engine-tls"};
  std::uint16_t port_ = 0;
  std::unique_ptr<net::tls_test::ChildDaemon> haproxy_;
};

TEST_F(DockerEngineTlsTest, AClientWithTheCertificatesOfDockerCertPathIsServed) {
  auto endpoint = EngineEndpoint::Resolve(
      Host(), {{"DOCKER_TLS_VERIFY", "1"}, {"DOCKER_CERT_PATH", dir_.path()}});
  ASSERT_THAT(endpoint, IsOk());
  ASSERT_TRUE(endpoint->tls);
  DockerEngine engine(*endpoint);
  EXPECT_THAT(engine.Ping(), IsOk());
  auto info = engine.Info();
  ASSERT_THAT(info, IsOk());
  EXPECT_EQ(info->os, "linux");
  EXPECT_THAT(engine.ListContainers({"outpost.test.case=tls-none"}), IsOk());
  // Neither the kept-alive connection nor the TLS session of that certificate serves a client
  // without it.
  EngineEndpoint none = *endpoint;
  none.cert_file.clear();
  none.key_file.clear();
  EXPECT_THAT(DockerEngine(none).Ping(), StatusIs(Code::kUnavailable));
  EXPECT_THAT(engine.Ping(), IsOk());
}

TEST_F(DockerEngineTlsTest, AClientWithoutOrWithAWrongCertificateIsRefused) {
  EngineEndpoint none{Host(), true, dir_.Join("ca.pem"), "", ""};
  EXPECT_THAT(DockerEngine(none).Ping(), StatusIs(Code::kUnavailable, HasSubstr("docker ping")));
  EngineEndpoint wrong{Host(), true, dir_.Join("ca.pem"), dir_.Join("other-cert.pem"),
                       dir_.Join("other-key.pem")};
  EXPECT_THAT(DockerEngine(wrong).Ping(), StatusIs(Code::kUnavailable));
  // A daemon whose certificate is not of the CA we trust is not spoken to either.
  EngineEndpoint untrusted{Host(), true, dir_.Join("other-ca.pem"), dir_.Join("cert.pem"),
                           dir_.Join("key.pem")};
  EXPECT_THAT(DockerEngine(untrusted).Ping(),
              StatusIs(Code::kUnavailable, HasSubstr("certificate verify failed")));
  // Nor plain http to the TLS port.
  EXPECT_THAT(DockerEngine(At(Host())).Ping(), StatusIs(Code::kUnavailable));
}

}  // namespace
}  // namespace outpost::docker
