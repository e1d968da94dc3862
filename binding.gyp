{
  "targets": [
    {
      "target_name": "peercred",
      "sources": ["src/native/peercred.c"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
