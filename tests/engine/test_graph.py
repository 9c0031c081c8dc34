from licenses.engine.graph import LineageGraph


def _graph():
    g = LineageGraph()
    g.add_edge("ft", "base", "finetune")
    g.add_edge("q", "ft", "quantized")
    g.add_edge("m", "ft", "merge")
    g.add_edge("m", "other", "merge")
    g.add_edge("m", "other", "merge")  # duplicate ignored
    g.add_edge("self", "self")  # self-loop ignored
    return g


def test_descendants_and_ancestors():
    g = _graph()
    assert sorted(g.descendants("base")) == ["ft", "m", "q"]
    assert sorted(g.ancestors("m")) == ["base", "ft", "other"]
    assert g.parents("m") == [("ft", "merge"), ("other", "merge")]
    assert g.descendants("nope") == []
    assert sorted(g.ancestors("q")) == ["base", "ft"]
    assert sorted(g.roots()) == ["base", "other", "self"]


def test_cycles_and_deep_chains_do_not_recurse():
    g = LineageGraph()
    for i in range(50_000):
        g.add_edge(f"n{i + 1}", f"n{i}")
    g.add_edge("n0", "n50000")  # a cycle from bad metadata
    assert len(g.descendants("n0")) == 50_000
    assert len(g.ancestors("n0")) == 50_000
