package filter

// Simplify folds constants out of And and Or lists, one level deep at a
// time: a false member makes an And false and a true member makes an Or
// true, the other constants drop out, an empty And is true, an empty Or is
// false and a one-member list is its member. Profiles use it so that "All
// rows" at Organization depth becomes true and a table the user cannot
// read becomes false. Other nodes are returned as they are.
func Simplify(e Expr) Expr {
	switch x := e.(type) {
	case *And:
		var list []Expr
		for _, y := range x.List {
			y = Simplify(y)
			if IsConst(y, false) {
				return &Const{Value: false}
			}
			if !IsConst(y, true) {
				list = append(list, y)
			}
		}
		if len(list) == 0 {
			return &Const{Value: true}
		}
		if len(list) == 1 {
			return list[0]
		}
		return &And{Pos: x.Pos, List: list}
	case *Or:
		var list []Expr
		for _, y := range x.List {
			y = Simplify(y)
			if IsConst(y, true) {
				return &Const{Value: true}
			}
			if !IsConst(y, false) {
				list = append(list, y)
			}
		}
		if len(list) == 0 {
			return &Const{Value: false}
		}
		if len(list) == 1 {
			return list[0]
		}
		return &Or{Pos: x.Pos, List: list}
	}
	return e
}

// IsConst reports whether e is the constant v.
func IsConst(e Expr, v bool) bool {
	c, ok := e.(*Const)
	return ok && c.Value == v
}
