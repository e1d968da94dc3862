/*
 * The uid of the process at the other end of a connected Unix socket, for the daemon's peer check
 * (src/daemon/peer-credentials.ts): SO_PEERCRED on Linux, getpeereid() on macOS and the BSDs. Node has no
 * API for either. The kernel records the peer's credentials when it connects; nothing the peer sends can
 * change them.
 */
#if defined(__linux__)
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

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
  return exports;
}
