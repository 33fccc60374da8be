module github.com/hnth-ops/infra/smpp

go 1.26.0

require github.com/fiorix/go-smpp v0.0.0-20210403173735-2894b96e70ba

require golang.org/x/text v0.3.6 // indirect
