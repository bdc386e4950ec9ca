package config

import "strings"

// VarError is one malformed variable: its name and what is wrong with it.
// Reason quotes the value only for variables that hold no secret.
type VarError struct {
	Var    string
	Reason string
}

func (e *VarError) Error() string { return e.Var + ": " + e.Reason }

// LoadError lists every malformed variable Load found, in the order Load
// reads them, so one run of the program reports them all.
type LoadError struct {
	Vars []*VarError
}

// Error reads like `config: DEBUG: "maybe" is not a boolean; THROTTLE_LOGIN: …`.
func (e *LoadError) Error() string {
	parts := make([]string, len(e.Vars))
	for i, v := range e.Vars {
		parts[i] = v.Error()
	}
	return "config: " + strings.Join(parts, "; ")
}

// Unwrap returns the *VarError of each variable, for errors.As.
func (e *LoadError) Unwrap() []error {
	errs := make([]error, len(e.Vars))
	for i, v := range e.Vars {
		errs[i] = v
	}
	return errs
}

// Has reports whether name is among the malformed variables.
func (e *LoadError) Has(name string) bool {
	for _, v := range e.Vars {
		if v.Var == name {
			return true
		}
	}
	return false
}
