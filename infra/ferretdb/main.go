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
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dataDir := flag.String("data", "data", "directory holding the SQLite databases")
	query := flag.String("sqlite-query", "", "query added to the SQLite URL, e.g. _pragma=cache_size(-65536)")
	pprof := flag.String("pprof", os.Getenv("HNTH_FERRETDB_PPROF"),
		"address serving Go's profiler (/debug/pprof/), e.g. 127.0.0.1:6060; off when empty (default $HNTH_FERRETDB_PPROF)")
	flag.Parse()

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

	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
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
