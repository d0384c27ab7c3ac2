"""Realistic, reproducible values for Thrift types, and their JSON form.

``ValueGenerator`` answers calls with Faker-backed data chosen by field names (see :mod:`.hints`);
``to_json``/``from_json`` convert between wire values and what users read and write.
"""

from thriftbox.values.annotations import check_annotations
from thriftbox.values.convert import ValueConversionError, from_json, override_from_json, to_json
from thriftbox.values.generator import ValueGenerator
from thriftbox.values.validate import is_valid

__all__ = [
    "ValueConversionError",
    "ValueGenerator",
    "check_annotations",
    "from_json",
    "is_valid",
    "override_from_json",
    "to_json",
]
