from compliance.models import Measure


def test_every_kind_is_one_off_or_lasting():
    # A shop's standing lists the lasting kinds: a new kind must be put on one side.
    assert set(Measure.ONE_OFF) | set(Measure.LASTING) == set(Measure.Kind.values)
    assert not set(Measure.ONE_OFF) & set(Measure.LASTING)
