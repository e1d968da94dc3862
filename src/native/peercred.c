/*
 * The uid of the process at the other end of a connected Unix socket, for the daemon's peer check
 * (src/daemon/peer-credentials.ts) and the client's check of its daemon (src/client/get/daemon-trust.ts), both
 * loaded by src/system/peercred.ts: SO_PEERCRED on Linux, getpeereid() on macOS and the BSDs. Node has no API for either. The kernel records
 * the peer's credentials when it connects; nothing the peer sends can change them.
 *
 * connectUnix(path, timeoutMs): a connected Unix stream socket's descriptor, for the client. Node has no
 * public way to give the descriptor of a net.Socket to peerUid, so the client connects here, checks the
 * peer, and then speaks over the descriptor with fs.writeSync/readSync (the `get` hot path) or wraps it in
 * `new net.Socket({ fd })`. SO_SNDTIMEO and SO_RCVTIMEO bound a blocking connect (a full backlog), write
 * and read, so a stopped daemon cannot hold the client.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/** Throws an Error whose `code` is the errno's name where it is one callers tell apart. */
static void ThrowErrno(napi_env env, int err) {
  const char *code = err == ENOENT         ? "ENOENT"
                     : err == ECONNREFUSED ? "ECONNREFUSED"
                     : err == EAGAIN       ? "EAGAIN"
                     : err == EACCES       ? "EACCES"
                     : err == ENOTSOCK     ? "ENOTSOCK"
                     : err == ENAMETOOLONG ? "ENAMETOOLONG"
                                           : "EIO";
  napi_throw_error(env, code, strerror(err));
}

static napi_value ConnectUnix(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
  size_t len = 0;
  int32_t timeout_ms = 0;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_int32(env, argv[1], &timeout_ms) != napi_ok || timeout_ms <= 0) {
    napi_throw_type_error(env, NULL, "connectUnix takes a path and a timeout in ms");
    return NULL;
  }
  napi_status st = napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len);
  if (st != napi_ok) {
    napi_throw_type_error(env, NULL, "connectUnix takes a path and a timeout in ms");
    return NULL;
  }
  if (len == 0 || len >= sizeof path - 1) {
    ThrowErrno(env, ENAMETOOLONG);
    return NULL;
  }
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, path, len);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) {
    ThrowErrno(env, errno);
    return NULL;
  }
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  struct timeval tv;
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, err);
    return NULL;
  }
  int r;
  do {
    r = connect(fd, (struct sockaddr *)&addr, sizeof addr);
  } while (r != 0 && errno == EINTR);
  if (r != 0) {
    int err = errno == EINPROGRESS || errno == EWOULDBLOCK ? EAGAIN : errno;
    close(fd);
    ThrowErrno(env, err);
    return NULL;
  }
  if (napi_create_int32(env, fd, &out) != napi_ok) {
    close(fd);
    return NULL;
  }
  return out;
}

static napi_value PeerUid(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  uid_t uid;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_int32(env, argv[0], &fd) != napi_ok || fd < 0) {
    napi_throw_type_error(env, NULL, "peerUid takes a file descriptor");
    return NULL;
  }
#if defined(__linux__)
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  uid = cred.uid;
#else
  gid_t gid;
  if (getpeereid(fd, &uid, &gid) != 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
#endif
  if (napi_create_uint32(env, (uint32_t)uid, &out) != napi_ok) return NULL;
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "peerUid", NAPI_AUTO_LENGTH, PeerUid, NULL, &fn) != napi_ok) return NULL;
  if (napi_set_named_property(env, exports, "peerUid", fn) != napi_ok) return NULL;
  if (napi_create_function(env, "connectUnix", NAPI_AUTO_LENGTH, ConnectUnix, NULL, &fn) != napi_ok)
    return NULL;
  if (napi_set_named_property(env, exports, "connectUnix", fn) != napi_ok) return NULL;
  return exports;
}
