"""One macro for every experiment's results regression (tests/README.md)."""

def golden_regression_test(name, binary, configs, config, golden):
    """Runs `binary` on `config` with portable kernels and compares with `golden`.

    Args:
      name: the test, e.g. "table1_tiny_golden" (tagged "golden" for tools/update_golden.sh).
      binary: the experiment's cc_binary label.
      configs: a filegroup with the config and everything it includes.
      config: the config's workspace path.
      golden: the golden file's label under //tests/golden.
    """
    golden_path = "tests/golden/" + golden.split(":")[-1]
    native.cc_test(
        name = name,
        size = "medium",
        args = [
            "--binary=$(rootpath %s)" % binary,
            "--config=" + config,
            "--golden=$(rootpath %s)" % golden,
            "--golden_source=" + golden_path,
        ],
        data = [binary, configs, golden],
        tags = ["golden"],
        deps = ["//tests/regression:golden_runner"],
    )
