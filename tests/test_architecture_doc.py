"""docs/ARCHITECTURE.md shows the layers as the imports draw them
(tools/import_graph.py): a picture that drifted from the code would teach
the wrong dependencies."""

import importlib.util

from django.conf import settings


def load_tool():
    path = settings.BASE_DIR / "tools" / "import_graph.py"
    spec = importlib.util.spec_from_file_location("import_graph", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_documented_graph_is_the_one_the_imports_draw():
    tool = load_tool()
    text = tool.DOC.read_text()
    block = text.split(tool.BEGIN, 1)[1].split(tool.END, 1)[0].strip()
    assert block == tool.mermaid(), "run .venv/bin/python tools/import_graph.py --write"


def test_no_layer_imports_one_above_it():
    assert load_tool().upward() == []
