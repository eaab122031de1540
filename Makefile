# The two commands of README.md. Both do all set-up themselves (see scripts/setup.sh).
.PHONY: docs test setup bench clean

docs:            ## execute every notebook and render docs/ (HTML + index)
	scripts/docs.sh

test:            ## unit tests, kernel start stress test, notebooks in quick mode
	scripts/test.sh

setup:           ## build lib/ and install the "java" Jupyter kernel into .jupyter-env/
	scripts/setup.sh

clean:
	rm -rf lib/target kernel-setup/target docs .jupyter-env
