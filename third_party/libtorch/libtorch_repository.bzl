"""Repository rule that exposes one LibTorch installation as @libtorch//:libtorch.

The only place in the project that knows where LibTorch lives. Reads LIBTORCH_PATH:
  * unset (default): Debian's CPU build, headers under /usr/include, libraries under
    /usr/lib/x86_64-linux-gnu (package libtorch-dev, installed by tools/setup.sh);
  * set: a LibTorch root with include/ and lib/ (the official CUDA archive, or
    `python -c 'import torch, os; print(os.path.dirname(torch.__file__))'`).
Every libtorch*.so / libc10*.so found is linked with --no-as-needed, so CUDA kernels register
themselves when libtorch_cuda.so is present. Changing LIBTORCH_PATH refetches this repository.
"""

_HEADER_DIRS = ["ATen", "c10", "torch", "caffe2"]

def _find_lib_dir(rctx, root):
    for cand in ["lib", "lib/x86_64-linux-gnu", "lib/aarch64-linux-gnu", "lib64"]:
        if rctx.path(root + "/" + cand + "/libtorch.so").exists:
            return root + "/" + cand
    fail("LIBTORCH_PATH=%s: no libtorch.so under lib/, lib/x86_64-linux-gnu/ or lib64/" % root)

def _libtorch_repository_impl(rctx):
    root = rctx.os.environ.get("LIBTORCH_PATH", "/usr")
    if root.endswith("/"):
        root = root[:-1]
    inc = root + "/include"
    if not rctx.path(inc + "/torch/csrc/api/include/torch/torch.h").exists:
        fail("LibTorch headers not found: %s/torch/csrc/api/include/torch/torch.h is missing " % inc +
             "(run tools/setup.sh, or point LIBTORCH_PATH at a LibTorch root)")
    for d in _HEADER_DIRS:
        if rctx.path(inc + "/" + d).exists:
            rctx.symlink(inc + "/" + d, "include/" + d)
    lib_dir = _find_lib_dir(rctx, root)
    libs = []
    for f in rctx.path(lib_dir).readdir():
        name = f.basename
        if (name.startswith("libtorch") or name.startswith("libc10")) and name.endswith(".so"):
            # Python bindings and the deploy interpreter are not part of the C++ API.
            if "python" in name or "deploy" in name or "global_deps" in name:
                continue
            libs.append(name)
    libs = sorted(libs)
    cuda = "libtorch_cuda.so" in libs
    link = ["-L" + lib_dir, "-Wl,-rpath," + lib_dir, "-Wl,--no-as-needed"]
    link += ["-l" + n[len("lib"):-len(".so")] for n in libs]
    # No trailing --as-needed: it would apply to the libraries linked after these (Abseil's
    # many .so files, needed by the per-target .so files of fastbuild tests).
    rctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "libtorch",
    hdrs = glob(["include/**"]),
    includes = ["include", "include/torch/csrc/api/include"],
    linkopts = {link},
    defines = {defines},
)

""".format(link = repr(link), defines = repr(["ROBUSTNESS_LIBTORCH_CUDA=1"] if cuda else [])))
    rctx.file("info.txt", "root=%s\nlib_dir=%s\ncuda=%s\n" % (root, lib_dir, cuda))

libtorch_repository = repository_rule(
    implementation = _libtorch_repository_impl,
    environ = ["LIBTORCH_PATH"],
    local = True,
)
