#include "diffeo/distributed/rendezvous.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <utility>

#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "diffeo/core/error.h"

namespace diffeo::distributed {
namespace {

const char* environment(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The whole of `text` as an int, else a diffeo::Error naming the variable.
int parse_int(const char* name, const char* text) {
  errno = 0;
  char* end = nullptr;
  long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || errno == ERANGE || value < INT32_MIN || value > INT32_MAX) {
    throw Error(std::string("distributed rendezvous: environment variable ") + name +
                " must be an integer, got '" + text + "'");
  }
  return static_cast<int>(value);
}

std::string describe(const Rendezvous& r) {
  return "rendezvous at " + r.master_addr() + ":" + std::to_string(r.master_port()) + " (rank " +
         std::to_string(r.rank()) + " of " + std::to_string(r.world_size()) + ")";
}

#ifdef USE_C10D_GLOO
// The local address of the route to the master: a connected UDP socket sends
// nothing, but the kernel picks its source address.  Gloo must listen there,
// not on whatever this machine's hostname resolves to, for other machines to
// reach it.
std::string local_address_towards(const Rendezvous& r) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(r.master_port());
  if (int rc = getaddrinfo(r.master_addr().c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw Error(describe(r) + ": cannot resolve MASTER_ADDR '" + r.master_addr() +
                "': " + gai_strerror(rc));
  }
  std::string address;
  for (addrinfo* a = found; a != nullptr && address.empty(); a = a->ai_next) {
    int fd = socket(a->ai_family, SOCK_DGRAM, 0);
    if (fd < 0) continue;
    sockaddr_storage local{};
    socklen_t size = sizeof(local);
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &size) == 0) {
      char text[INET6_ADDRSTRLEN] = {};
      const void* raw = local.ss_family == AF_INET
                            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr)
                            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
      if (inet_ntop(local.ss_family, raw, text, sizeof(text)) != nullptr) address = text;
    }
    close(fd);
  }
  freeaddrinfo(found);
  if (address.empty()) throw Error(describe(r) + ": no route to MASTER_ADDR '" + r.master_addr() + "'");
  return address;
}
#endif

}  // namespace

std::optional<Rendezvous> Rendezvous::from_environment() {
  const char* world_size = environment("WORLD_SIZE");
  if (world_size == nullptr) return std::nullopt;
  const char* rank = environment("RANK");
  if (rank == nullptr) {
    throw Error("distributed rendezvous: WORLD_SIZE is set but RANK is not (torchrun sets both)");
  }
  Rendezvous r;
  r.world_size(parse_int("WORLD_SIZE", world_size)).rank(parse_int("RANK", rank));
  r.local_rank(r.rank());
  if (const char* local = environment("LOCAL_RANK")) r.local_rank(parse_int("LOCAL_RANK", local));
  if (const char* address = environment("MASTER_ADDR")) r.master_addr(address);
  if (const char* port = environment("MASTER_PORT")) r.master_port(parse_int("MASTER_PORT", port));
  r.validate();
  return r;
}

void Rendezvous::validate() const {
  auto fail = [](const std::string& what) { throw Error("distributed rendezvous: " + what); };
  if (world_size() < 1) fail("WORLD_SIZE must be at least 1, got " + std::to_string(world_size()));
  if (rank() < 0 || rank() >= world_size()) {
    fail("RANK must be in [0, " + std::to_string(world_size()) + ") for WORLD_SIZE " +
         std::to_string(world_size()) + ", got " + std::to_string(rank()));
  }
  if (local_rank() < 0) fail("LOCAL_RANK must be >= 0, got " + std::to_string(local_rank()));
  if (master_port() < 1 || master_port() > 65535) {
    fail("MASTER_PORT must be in 1..65535, got " + std::to_string(master_port()));
  }
  if (master_addr().empty()) fail("MASTER_ADDR must not be empty");
  if (timeout().count() <= 0) fail("the timeout must be positive");
}

namespace {

// NCCL and CUDA tensors in Gloo work on the current CUDA device: make it the
// rank's own (the device's index, else LOCAL_RANK, as torchrun's convention
// has one GPU per local rank).  It is per thread, as ranks in tests are.
void use_rank_device(const Rendezvous& r, const torch::Device& device) {
  if (!device.is_cuda()) return;
  if (!torch::cuda::is_available())
    throw Error(describe(r) + ": device " + device.str() + " asked for, but no CUDA device is available");
  const int index = device.has_index() ? device.index() : r.local_rank();
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw Error(describe(r) + ": rank's GPU cuda:" + std::to_string(index) + " does not exist (" +
                std::to_string(count) + " CUDA device" + (count == 1 ? "" : "s") + ")");
  }
  c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)
      ->setDevice(c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(index)));
}

template <typename Options, typename = void>
struct HasLibUvSwitch : std::false_type {};
template <typename Options>
struct HasLibUvSwitch<Options, std::void_t<decltype(std::declval<Options&>().useLibUV)>> : std::true_type {};

// The classic TCP store: LibTorch 2.4 on defaults to the libuv one, which
// builds without libuv (Debian 13's) refuse at run time; the classic store
// serves a run's few ranks as well and exists in every version.
template <typename Options>
void use_classic_store(Options& options) {
  if constexpr (HasLibUvSwitch<Options>::value) options.useLibUV = false;
}

c10::intrusive_ptr<c10d::TCPStore> connect_store(const Rendezvous& r) {
  c10d::TCPStoreOptions store_options;
  use_classic_store(store_options);
  store_options.port = static_cast<std::uint16_t>(r.master_port());
  store_options.isServer = r.rank() == 0;
  store_options.numWorkers = r.world_size();
  store_options.timeout = r.timeout();
  return c10::make_intrusive<c10d::TCPStore>(r.master_addr(), store_options);
}

ProcessGroup gloo_group(const Rendezvous& r) {
#ifndef USE_C10D_GLOO
  throw Error(describe(r) + ": this diffeo was built against a LibTorch without c10d's Gloo backend");
#else
  // The device first: it resolves MASTER_ADDR, which fails fast where the
  // store would retry until the timeout.
  auto options = c10d::ProcessGroupGloo::Options::create(r.timeout());
  const char* interface = environment("GLOO_SOCKET_IFNAME");
  options->devices.push_back(interface != nullptr
                                 ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
                                 : c10d::ProcessGroupGloo::createDeviceForHostname(local_address_towards(r)));
  return c10::make_intrusive<c10d::ProcessGroupGloo>(connect_store(r), r.rank(), r.world_size(), options);
#endif
}

ProcessGroup nccl_group(const Rendezvous& r) {
#ifndef USE_C10D_NCCL
  throw Error(describe(r) + ": the NCCL backend needs a LibTorch built with CUDA and NCCL (USE_C10D_NCCL); "
              "this one has none: ask for Gloo (Backend::kGloo), which takes CPU tensors and, where "
              "LibTorch has CUDA, CUDA ones");
#else
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = r.timeout();
  return c10::make_intrusive<c10d::ProcessGroupNCCL>(connect_store(r), r.rank(), r.world_size(), options);
#endif
}

}  // namespace

ProcessGroup join(const Rendezvous& rendezvous, const torch::Device& device,
                  std::optional<Backend> backend) {
  rendezvous.validate();
  const Backend chosen = backend.value_or(backend_for(device));
  if (chosen == Backend::kNccl && !device.is_cuda()) {
    throw Error(describe(rendezvous) + ": NCCL takes CUDA tensors only, got device " + device.str());
  }
  try {
    use_rank_device(rendezvous, device);
    return chosen == Backend::kNccl ? nccl_group(rendezvous) : gloo_group(rendezvous);
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Error(describe(rendezvous) + " failed: " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Error(describe(rendezvous) + " failed: " + e.what());
  }
}

ProcessGroup join_from_environment(const torch::Device& device) {
  const auto rendezvous = Rendezvous::from_environment();
  return rendezvous ? join(*rendezvous, device) : ProcessGroup();
}

int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  const bool bound = fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                     getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  const int error = errno;
  if (fd >= 0) close(fd);
  if (!bound)
    throw Error(std::string("distributed: cannot find a free loopback port: ") + std::strerror(error));
  return ntohs(address.sin_port);
}

}  // namespace diffeo::distributed
