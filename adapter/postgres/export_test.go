package postgres

import (
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Test helpers for the external test package.

// LiveURL is the shared PostgreSQL's URL.
func LiveURL() string { return pgURL }

// LiveLogger is testLogger.
func LiveLogger() *slog.Logger { return testLogger() }

// LiveTable is testTable.
func LiveTable(t testing.TB) string { return testTable(t) }

// NewLivePool is newPool.
func NewLivePool(t testing.TB, url string, maxConns int32) *pgxpool.Pool {
	return newPool(t, url, maxConns)
}

// CutProxy is a cutProxy in front of the shared PostgreSQL.
type CutProxy struct{ p *cutProxy }

// NewCutProxy starts one.
func NewCutProxy(t testing.TB) CutProxy { return CutProxy{newCutProxy(t, pgHostPort)} }

// URL is the database's URL through the proxy.
func (c CutProxy) URL() string { return c.p.url() }

// Cut cuts every connection and refuses new ones.
func (c CutProxy) Cut() { c.p.cut() }

// Restore accepts connections again.
func (c CutProxy) Restore() { c.p.restore() }

// RandomName is randomName.
func RandomName(prefix string) string { return randomName(prefix) }
