namespace py kinds

# Every kind of type, for wire round trips and edge cases.

enum Color { RED = 1, GREEN = 2, BLUE = 4, BLACK = -1 }

struct Leaf {
  1: required string label
  2: optional Leaf child
}

struct Node {
  1: string name
  2: Node parent
  3: list<Node> kids
}

union Choice { 1: i32 number, 2: string text, 3: Leaf leaf, 4: double ratio, 5: Color color, 6: list<Node> nodes }

struct Everything {
  1: bool flag
  2: byte tiny
  3: i16 small
  4: i32 medium
  5: i64 large
  6: double ratio
  7: string text
  8: binary blob
  9: Color color
  10: Leaf leaf
  11: list<i32> numbers
  12: set<string> names
  13: map<string, Leaf> leaves
  14: map<Color, list<set<i16>>> nested
  15: optional Choice choice
  16: list<bool> flags
  17: map<i64, double> weights
  18: Node node
}

exception Oops { 1: string why }

service Echo {
  Everything echo(1: Everything e) throws (1: Oops oops)
  Choice pick(1: Choice c)
}
