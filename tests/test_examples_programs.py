"""The documentation's example pipeline of external programs, as shipped in examples/:
distributed cross-validation with libsvm over the Iris data set."""

import importlib.util
import os
import re
import shutil

import pytest

import rain.client
from rain_testing import REPO


def load_example(name):
    path = os.path.join(REPO, "examples", name)
    spec = importlib.util.spec_from_file_location(name[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not hasattr(rain.client, "remote"),
                    reason="the example uses @remote: rain.client.remote does not exist yet")
def test_libsvm_cross_validation(cluster, capsys):
    assert shutil.which("svm-train") and shutil.which("svm-predict"), \
        "needs libsvm-tools (apt-get install libsvm-tools, as .ci/run does)"
    example = load_example("libsvm_crossvalidation.py")
    # The example connects to localhost:7210; this test's cluster listens elsewhere.
    example.Client = lambda host, port: cluster.client()
    example.main()
    printed = capsys.readouterr().out
    folds = re.findall(r"Accuracy = ([\d.]+)% \((\d+)/(\d+)\) \(classification\)", printed)
    assert len(folds) == 3, printed
    correct = sum(int(c) for _, c, _ in folds)
    total = sum(int(t) for _, _, t in folds)
    assert total == 150, printed  # every row is tested in exactly one fold
    assert correct >= 0.8 * total, printed  # an SVM separates the iris species well
