package postgres

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// queryTracer is a pgx.QueryTracer that records one client span per
// statement (transactions' BEGIN and COMMIT included), named by its SQL
// verb so that span names stay few. The span carries the statement text,
// which holds placeholders only: arguments, which may be personal data or
// token identifiers, are never recorded.
type queryTracer struct {
	tracer trace.Tracer
	attrs  []attribute.KeyValue
}

func newQueryTracer(tp trace.TracerProvider, dbName string) *queryTracer {
	return &queryTracer{
		tracer: tp.Tracer("github.com/blipsocial/blip/internal/postgres"),
		attrs: []attribute.KeyValue{
			attribute.String("db.system", "postgresql"), // the key redisotel uses too
			attribute.String("db.namespace", dbName),
		},
	}
}

// TraceQueryStart implements pgx.QueryTracer.
func (t *queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	op := sqlVerb(data.SQL)
	ctx, span := t.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(t.attrs...),
		trace.WithAttributes(attribute.String("db.operation.name", op), attribute.String("db.query.text", data.SQL)))
	_ = span // ended in TraceQueryEnd, which finds it in ctx
	return ctx
}

// TraceQueryEnd implements pgx.QueryTracer.
func (t *queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if data.Err != nil && !errors.Is(data.Err, pgx.ErrNoRows) {
		span.SetStatus(codes.Error, data.Err.Error())
	} else {
		span.SetAttributes(attribute.Int64("db.response.returned_rows", data.CommandTag.RowsAffected()))
	}
	span.End()
}

// sqlVerb returns the first word of a statement in upper case ("SELECT",
// "INSERT", "BEGIN"), or "SQL" when there is none.
func sqlVerb(sql string) string {
	sql = strings.TrimSpace(sql)
	for strings.HasPrefix(sql, "--") { // leading comment lines
		_, rest, _ := strings.Cut(sql, "\n")
		sql = strings.TrimSpace(rest)
	}
	end := strings.IndexFunc(sql, func(r rune) bool { return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') })
	if end < 0 {
		end = len(sql)
	}
	if end == 0 {
		return "SQL"
	}
	return strings.ToUpper(sql[:end])
}
