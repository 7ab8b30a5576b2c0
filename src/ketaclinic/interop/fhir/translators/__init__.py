"""Domain <-> FHIR, one module per resource type (the OpenMRS fhir2 translator
pattern): ``to_fhir`` builds the resource as a plain dict from the domain's facts;
where the resource can be written or imported, ``from_fhir`` reads it back into the
facts the domain stores. Nothing else in ketaclinic builds or parses FHIR resources."""
