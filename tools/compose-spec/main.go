// compose-check loads a compose file with compose-go, the library `docker compose` itself uses, so a file it accepts
// is one `docker compose config` would accept: schema validation, interpolation, merging of YAML anchors and the
// semantic checks (dependencies on unknown services, cycles, unknown volumes) that the JSON schema cannot express.
// It needs no Docker engine. Usage: compose-check FILE; variables come from the process environment. Exit 0 and the
// project's service names on stdout when the file loads; exit 1 and compose-go's message on stderr when it does not.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check FILE")
		os.Exit(2)
	}
	path, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		fail(err)
	}
	environment := map[string]string{}
	for _, pair := range os.Environ() {
		name, value, _ := strings.Cut(pair, "=")
		environment[name] = value
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: content}},
		Environment: environment,
	}
	project, err := loader.LoadWithContext(context.Background(), details)
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		fmt.Println(name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}
