// Package dapr runs Dapr's own state store and binding conformance suites, and a real daprd, against Lapis
// (or Azurite, with DAPR_TARGET=azurite), started by the test on free loopback ports.
package dapr

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	accountName = "devstoreaccount1"
	accountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// storage is the running server under test.
type storage struct {
	name    string
	blobURL string // http://127.0.0.1:<port>, no account, as Dapr's blob `endpoint` wants it
	tabURL  string // http://127.0.0.1:<port>, no account
	qURL    string // http://127.0.0.1:<port>, no account
	cmd     *exec.Cmd
	dir     string
}

// serviceURL is the Table service URL with the account, as Dapr's table `serviceURL` wants it.
func (s *storage) serviceURL() string { return s.tabURL + "/" + accountName }

var target *storage

func TestMain(m *testing.M) {
	var err error
	switch name := os.Getenv("DAPR_TARGET"); name {
	case "", "lapis":
		target, err = startLapis()
	case "azurite":
		target, err = startAzurite()
	default:
		err = fmt.Errorf("DAPR_TARGET=%q: want lapis or azurite", name)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start the storage server:", err)
		os.Exit(2)
	}
	fmt.Printf("target %s: blob %s, table %s, queue %s\n", target.name, target.blobURL, target.tabURL, target.qURL)
	code := m.Run()
	target.stop()
	os.Exit(code)
}

func repoRoot() string {
	abs, err := filepath.Abs("../..")
	if err != nil {
		return "../.."
	}
	return abs
}

func (s *storage) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	_ = os.RemoveAll(s.dir)
}

// startLapis runs lapis on port 0 and reads the four URLs it prints first: blob, table, admin, queue.
func startLapis() (*storage, error) {
	bin := os.Getenv("LAPIS_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(), "target/release/lapis")
	}
	dir, err := os.MkdirTemp("", "lapis-dapr-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", "0", "--tableHost", "127.0.0.1",
		"--tablePort", "0", "--queueHost", "127.0.0.1", "--queuePort", "0", "--adminPort", "0",
		"--location", filepath.Join(dir, "data"), "--silent")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w (build it with cargo build --release, or set LAPIS_BIN)", bin, err)
	}
	s := &storage{name: "lapis", cmd: cmd, dir: dir}
	lines := make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			default: // drain whatever lapis prints later so it never blocks on a full pipe
			}
		}
	}()
	var admin string
	for _, dst := range []*string{&s.blobURL, &s.tabURL, &admin, &s.qURL} {
		select {
		case *dst = <-lines:
		case <-time.After(20 * time.Second):
			s.stop()
			return nil, fmt.Errorf("lapis printed no URL within 20s")
		}
	}
	return s, nil
}

// startAzurite runs Azurite on three ports picked here (Azurite does not report port 0's choice).
func startAzurite() (*storage, error) {
	bin := os.Getenv("AZURITE_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot(), "conformance/azurite/node_modules/.bin/azurite")
	}
	dir, err := os.MkdirTemp("", "azurite-dapr-")
	if err != nil {
		return nil, err
	}
	blobPort, err := freePort()
	if err != nil {
		return nil, err
	}
	tabPort, err := freePort()
	if err != nil {
		return nil, err
	}
	qPort, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", fmt.Sprint(blobPort),
		"--tableHost", "127.0.0.1", "--tablePort", fmt.Sprint(tabPort),
		"--queueHost", "127.0.0.1", "--queuePort", fmt.Sprint(qPort), "--location", dir,
		"--silent", "--skipApiVersionCheck", "--loose")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w (run npm ci in conformance/azurite, or set AZURITE_BIN)", bin, err)
	}
	s := &storage{name: "azurite", cmd: cmd, dir: dir,
		blobURL: fmt.Sprintf("http://127.0.0.1:%d", blobPort), tabURL: fmt.Sprintf("http://127.0.0.1:%d", tabPort),
		qURL: fmt.Sprintf("http://127.0.0.1:%d", qPort)}
	for _, port := range []int{blobPort, tabPort, qPort} {
		if err := waitListening(port, 30*time.Second); err != nil {
			s.stop()
			return nil, err
		}
	}
	return s, nil
}

// freePort asks the kernel for a loopback port that is free right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitListening(port int, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on 127.0.0.1:%d after %s", port, within)
}
