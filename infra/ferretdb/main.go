// Command hnth-ferretdb runs FerretDB's embeddable server with the SQLite
// handler: a MongoDB-compatible database for machines without mongod.
//
// `go install .../cmd/ferretdb` builds a binary that panics on a missing
// version file, so we embed the library package instead.
package main

import (
	"context"
	"flag"
	"log"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // -pprof: Go's profiler over HTTP, for benches
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// lazyAttrs formats a logger's attributes only when a record is written. FerretDB's SQL
// layer calls `With(args)` around every statement, whole documents included, for debug
// lines that are off; slog's text handler formats those at `With`, which took 6% of
// FerretDB's CPU in the e2e bench (a CPU profile).
type lazyAttrs struct {
	handler slog.Handler
	attrs   []slog.Attr
}

func (l lazyAttrs) Enabled(ctx context.Context, level slog.Level) bool {
	return l.handler.Enabled(ctx, level)
}

func (l lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return l.handler.WithAttrs(l.attrs).Handle(ctx, r)
}

func (l lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return lazyAttrs{handler: l.handler, attrs: append(l.attrs[:len(l.attrs):len(l.attrs)], attrs...)}
}

func (l lazyAttrs) WithGroup(name string) slog.Handler {
	return lazyAttrs{handler: l.handler.WithAttrs(l.attrs).WithGroup(name)}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "data", "directory holding the SQLite databases")
	query := flag.String("sqlite-query", "", "query added to the SQLite URL, e.g. _pragma=cache_size(-65536)")
	pprof := flag.String("pprof", os.Getenv("HNTH_FERRETDB_PPROF"),
		"address serving Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty (default $HNTH_FERRETDB_PPROF)")
	flag.Parse()

	if os.Getenv("GOGC") == "" {
		// its heap is tens of MB: collecting at 5x instead of 2x the live heap halves
		// the collector's share of the CPU (10% in the e2e bench's profile)
		debug.SetGCPercent(400)
	}

	if *pprof != "" {
		go func() { log.Print(http.ListenAndServe(*pprof, nil)) }()
	}

	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		log.Fatal(err)
	}

	sqliteURL := "file:" + *dataDir + "/"
	if *query != "" {
		sqliteURL += "?" + *query
	}

	text := slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})
	logger := slog.New(lazyAttrs{handler: text})
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		log.Fatal(err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	log.Printf("hnth-ferretdb listening on %s, data in %s", *listen, *dataDir)
	if err := f.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
