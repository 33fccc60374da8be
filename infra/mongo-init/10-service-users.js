// One database and one user per service; passwords come from the container environment.
for (const service of ["registration", "scheduling", "notification", "inspection"]) {
  const name = "hnth_" + service;
  db.getSiblingDB(name).createUser({
    user: service,
    pwd: process.env["MONGO_" + service.toUpperCase() + "_PASSWORD"],
    roles: [{ role: "readWrite", db: name }],
  });
}
