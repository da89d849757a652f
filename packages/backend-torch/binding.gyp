{
  # Driven by scripts/build.mjs, which finds libtorch and passes it through the environment:
  #   DFDET_TORCH_INCLUDES  space-separated include dirs
  #   DFDET_TORCH_LIBDIR    directory of libtorch.so / libtorch_cpu.so / libc10.so
  #   DFDET_TORCH_LIBS      space-separated -l flags (torch, torch_cpu, c10, torch_cuda when present)
  #   DFDET_TORCH_ABI       0 or 1: _GLIBCXX_USE_CXX11_ABI of that libtorch
  "targets": [
    {
      "target_name": "dfdet_torch",
      "sources": ["native/addon.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node -p \"process.env.DFDET_TORCH_INCLUDES || ''\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "_GLIBCXX_USE_CXX11_ABI=<!(node -p \"process.env.DFDET_TORCH_ABI || '1'\")"
      ],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++14", "-std=gnu++17", "-std=c++20", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-frtti", "-fexceptions", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
      "libraries": [
        "-L<!(node -p \"process.env.DFDET_TORCH_LIBDIR || ''\")",
        "-Wl,--no-as-needed",
        "<!@(node -p \"process.env.DFDET_TORCH_LIBS || '-ltorch -ltorch_cpu -lc10'\")",
        "-Wl,--as-needed",
        "-Wl,-rpath,<!(node -p \"process.env.DFDET_TORCH_LIBDIR || ''\")",
        "-ldl"
      ]
    }
  ]
}
