package httpapi

import "context"

// withRequestID returns a context carrying the request id (for code that
// logs outside a request served by the middleware, such as tests).
func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, stateKey{}, &requestState{requestID: id})
}

// requestID returns the id of the request being served, or "".
func requestID(ctx context.Context) string {
	if st := stateFrom(ctx); st != nil {
		return st.requestID
	}
	return ""
}
